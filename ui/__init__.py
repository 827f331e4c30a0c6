"""What staff see: Qt models, views, widgets and dialogs."""
