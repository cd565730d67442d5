"""The version lives in one place (nightshift.__version__); everything that states it agrees."""

from __future__ import annotations

import re
from importlib import metadata

from nightshift import __version__
from nightshift.report import Report
from tests.conftest import ROOT
from tests.support.nightshift import nightshift_template

SEMVER = re.compile(r"^\d+\.\d+\.\d+$")


def sar_metadata() -> dict[str, object]:
    return dict(nightshift_template()["Metadata"]["AWS::ServerlessRepo::Application"])


def test_the_version_is_semantic() -> None:
    assert SEMVER.match(__version__), __version__


def test_sar_semantic_version_is_the_package_version() -> None:
    assert sar_metadata()["SemanticVersion"] == __version__


def test_the_installed_distribution_reads_the_package_version() -> None:
    assert metadata.version("nightshift") == __version__


def test_the_changelog_has_a_section_for_the_version_and_one_for_unreleased_work() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")

    assert "## [Unreleased]" in changelog
    assert re.search(rf"^## \[{re.escape(__version__)}\] - \d{{4}}-\d\d-\d\d$", changelog, re.M)


def test_sar_metadata_names_files_that_exist_and_the_license_it_declares() -> None:
    sar = sar_metadata()

    assert (ROOT / str(sar["LicenseUrl"])).is_file()
    assert (ROOT / str(sar["ReadmeUrl"])).is_file()
    assert sar["SpdxLicenseId"] == "Apache-2.0"
    assert "Apache License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    for key in ("Name", "Description", "Author", "Labels", "SourceCodeUrl"):
        assert sar[key], key


def test_a_report_names_the_release_that_wrote_it() -> None:
    report = Report("scheduler", "r", "2026-11-20T18:00:00Z", "staging", False, "s")

    assert report.to_json()["producer"] == f"nightshift/{__version__}"
    assert Report.from_json(report.to_json()).producer == report.producer
