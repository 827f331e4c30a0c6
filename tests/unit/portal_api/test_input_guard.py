"""The input guard's scans: depth counts brackets outside strings only; only unstorable text
is refused, and an ordinary body is never decoded."""

from __future__ import annotations

import json

from portal_api.input_guard import MAX_JSON_DEPTH, body_problem, too_deep, unstorable


def test_nesting_at_the_limit_passes_and_one_more_level_is_too_deep() -> None:
    at_limit = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert not too_deep(at_limit)
    assert too_deep(b"[" + at_limit + b"]")
    assert too_deep(b'{"a": ' * 40 + b"1" + b"}" * 40)


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"body": "[[[[{{{{" * 100, "note": 'a \\" [[[ quoted'}).encode()
    assert not too_deep(text)


def test_nul_and_lone_surrogates_are_unstorable_but_emoji_are_not() -> None:
    assert unstorable("a\x00b")
    assert unstorable("\ud800")
    assert not unstorable("smile \U0001f600")
    assert not unstorable("")


def test_a_body_problem_names_where_never_what() -> None:
    body = json.dumps({"details": {"reason": "SECRET\x00"}}).encode()
    status, payload = body_problem(body) or (0, {})
    assert status == 422
    assert payload["error"]["details"]["errors"][0]["loc"] == ["body", "details", "reason"]
    assert "SECRET" not in json.dumps(payload)


def test_an_escaped_backslash_before_u0000_is_ordinary_text() -> None:
    assert body_problem(json.dumps({"body": "C:\\u0000 path"}).encode()) is None
    assert body_problem(json.dumps({"body": "plain words"}).encode()) is None


def test_a_body_of_escaped_quotes_without_an_end_is_scanned_in_one_pass() -> None:
    """The depth scan once took 17 s on this 64 KiB body (quadratic backtracking), holding
    the event loop; an unterminated string now runs to the end in one match."""
    from portal_api.input_guard import too_deep

    body = b'"' + b'\\"' * 32_700 + b"[" * 33
    assert too_deep(body) is False  # the brackets are inside the (unterminated) string
    assert too_deep(b'{"a": "x\\"[[", "b": ' + b"[" * 40 + b"]" * 40 + b"}") is True
