"""Qt-free client side: API client, credentials, encrypted cache, sync engine, domain rules."""
