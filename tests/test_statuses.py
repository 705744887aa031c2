"""The one status vocabulary: TestStatus carries every sandbox.Status, and its members read as their values."""

import json

from alphagen.statuses import VERDICT_STATUSES, ReferenceStatus, RunStatus, TestStatus
from sandbox import Status


def test_test_status_extends_the_sandbox_status() -> None:
    for status in Status:
        assert TestStatus.from_sandbox(status).name == status.name
        assert TestStatus.from_sandbox(status) == status.value


def test_statuses_print_and_serialize_as_their_values() -> None:
    assert f"{TestStatus.WRONG_ANSWER}" == "wrong_answer"
    assert json.dumps([TestStatus.OK, ReferenceStatus.MULTIPLE_ANSWERS, RunStatus.ERROR]) == (
        '["ok", "multiple answers", "error"]'
    )
    assert "not_run" not in VERDICT_STATUSES and "no_tests" in VERDICT_STATUSES
