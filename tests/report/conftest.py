"""The session's assessment folders (see report_fixtures)."""

from report_fixtures import default_assessment, hostile_assessment

__all__ = ["default_assessment", "hostile_assessment"]
