"""The key declarations are the one home of each key's default, and the children agree with them."""

from __future__ import annotations

import dataclasses

import pytest

from capture_proc.config import CaptureConfig
from receiver.config import ReceiverConfig
from sender_proc.config import SenderConfig
from supervisor.config.keys import BY_NAME, KEYS, Options

CHILD_CONFIGS = (CaptureConfig, SenderConfig, ReceiverConfig)
# child fields named like a key whose default the child gets from somewhere else
DERIVED = {
    (SenderConfig, "buffer_ms"),  # None there means max_latency_ms in either mode
    (CaptureConfig, "input_format"),  # the key's None (not given) means s16le
}


@pytest.mark.parametrize("config", CHILD_CONFIGS, ids=lambda c: c.__name__)
def test_a_child_field_named_like_a_key_has_the_keys_default(config: type) -> None:
    """A child run on its own (tests, benches) behaves as the supervisor's defaults."""
    shared = [
        f
        for f in dataclasses.fields(config)
        if f.name in BY_NAME and f.default is not dataclasses.MISSING  # required: always given
    ]
    assert shared, config
    for field in shared:
        if (config, field.name) in DERIVED:
            continue
        assert field.default == BY_NAME[field.name].default, (config.__name__, field.name)


def test_options_is_made_of_the_declarations_only() -> None:
    assert [k.name for k in KEYS] == [f.name for f in dataclasses.fields(Options)]
    assert Options() == Options(**{k.name: k.default for k in KEYS})
    for k in KEYS:
        assert k.help and k.doc and "\n" not in k.doc, k.name
        assert k.default not in (None, ()) or k.unset, f"{k.name}: say what no value means"
