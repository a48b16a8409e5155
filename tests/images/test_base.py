"""The base image's recipe: which mirror, which Debian, what mmdebstrap is asked for."""

from __future__ import annotations

from pathlib import Path

from mlgameday.images.base import DEFAULT_MIRROR, SUITE, debian_mirror, mmdebstrap_argv


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_mirror_is_the_first_debian_archive_of_a_deb822_source(tmp_path: Path) -> None:
    write(tmp_path / "sources.list.d" / "debian.sources", """Types: deb
# http://snapshot.debian.org/archive/debian-security/20250520T000000Z
URIs: http://mirror.example/debian-security
Suites: bookworm-security

Types: deb
URIs: http://mirror.example/debian/
Suites: bookworm bookworm-updates
Components: main
""")
    assert debian_mirror(tmp_path) == "http://mirror.example/debian"


def test_one_line_sources_with_options_are_read_too(tmp_path: Path) -> None:
    write(tmp_path / "sources.list", "# a comment\n"
                                     "deb [arch=amd64 signed-by=/k.gpg] http://ftp.example.org/debian bookworm main\n")
    assert debian_mirror(tmp_path) == "http://ftp.example.org/debian"


def test_a_host_without_a_debian_archive_uses_deb_debian_org(tmp_path: Path) -> None:
    # An Ubuntu host: its archive is not Debian's, and the images are Debian bookworm.
    write(tmp_path / "sources.list", "deb http://archive.ubuntu.com/ubuntu jammy main\n")
    assert debian_mirror(tmp_path) == DEFAULT_MIRROR
    assert debian_mirror(tmp_path / "missing") == DEFAULT_MIRROR


def test_mmdebstrap_builds_a_minimal_bookworm_without_documentation() -> None:
    argv = mmdebstrap_argv("http://mirror.example/debian", "/tmp/base.tar")
    assert argv[0] == "mmdebstrap" and "--variant=minbase" in argv
    assert argv[-3:] == [SUITE, "/tmp/base.tar", "http://mirror.example/debian"]
    assert SUITE == "bookworm"  # its python3 is 3.11, the project's Python
    assert "--dpkgopt=path-exclude=/usr/share/doc/*" in argv
    assert "--dpkgopt=path-include=/usr/share/doc/*/copyright" in argv  # licences stay
