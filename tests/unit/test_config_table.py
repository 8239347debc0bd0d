"""The README's configuration table and `techapi config` come from the setting declarations."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from techapi.cli import main
from techapi.config import markdown_table

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_configuration_table() -> str:
    section = README.read_text().split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    return "".join(line + "\n" for line in section.splitlines() if line.startswith("|"))


def test_the_readme_configuration_table_is_the_one_generated_from_the_declarations():
    assert readme_configuration_table() == markdown_table(), (
        "README.md's configuration table is out of date: regenerate it with `techapi config --markdown` "
        "and paste the output over the table under '## Configuration'"
    )


def test_the_table_has_a_row_per_declared_variable_with_its_default():
    table = markdown_table()
    assert "| `TECHAPI_TASK_MAX_ATTEMPTS` | `8` | attempts of a background task before it is FAILED |" in table
    assert "| `TECHAPI_REQUIRE_APPROVAL` | `true` |" in table
    assert "| `TECHAPI_SPAPI_CONNECT_TIMEOUT` | `5` |" in table
    assert ("| `TECHAPI_WEBHOOK_SECRET`, `TECHAPI_WEBHOOK_SECRET_PREVIOUS` | (none: every delivery is refused) |"
            in table)


def test_config_markdown_prints_the_table_without_reading_the_environment():
    result = CliRunner().invoke(main, ["config", "--markdown"], env={"TECHAPI_LOG_LEVEL": "LOUD"})
    assert result.exit_code == 0 and result.output == markdown_table()


def test_config_prints_the_effective_settings_with_secrets_masked(tmp_path):
    result = CliRunner().invoke(main, ["config"], env={
        "TECHAPI_INSTANCE_PATH": str(tmp_path), "TECHAPI_SECRET_KEY": "s" * 32, "TECHAPI_TASK_MAX_ATTEMPTS": "4"})
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["secret_key"] == "***" and "s" * 32 not in result.output
    assert shown["task_max_attempts"] == 4 and shown["instance_path"] == str(tmp_path)


def test_config_names_the_variable_of_an_invalid_value():
    result = CliRunner().invoke(main, ["config"], env={"TECHAPI_WORKER_METRICS_PORT": "99999"})
    assert result.exit_code == 1
    assert "configuration: TECHAPI_WORKER_METRICS_PORT: expected a port number" in result.output
