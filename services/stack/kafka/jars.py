"""Resolve the Kafka broker's jars with Maven into a cache folder outside the work tree."""

from __future__ import annotations

import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path

from ...errors import MissingToolError, StackError
from ..component import Reporter

MARKER = ".complete"

JAVA_HINT = "install Java 17+ (Debian/Ubuntu: `apt-get install -y openjdk-17-jre-headless`) and put `java` on PATH"
MAVEN_HINT = "install Maven (Debian/Ubuntu: `apt-get install -y maven`) and put `mvn` on PATH"


def require_tool(name: str, hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise MissingToolError(f"`{name}` was not found on PATH; the local Kafka broker needs it", hint=hint)
    return path


def pom_path() -> Path:
    return Path(str(resources.files("mlgameday.stack.kafka") / "pom.xml"))


def jar_dir(cache: Path, version: str) -> Path:
    return cache.expanduser() / version / "libs"


def ensure_jars(cache: Path, version: str, report: Reporter) -> Path:
    """Return the folder holding the broker's jars, fetching them with Maven the first time."""
    libs = jar_dir(cache, version)
    if (libs / MARKER).exists():
        return libs
    require_tool("java", JAVA_HINT)
    report("kafka", f"fetching Apache Kafka {version} jars with Maven into {libs} (once)")
    copy_dependencies(pom_path(), version, libs, report)
    (libs / MARKER).write_text(version)
    return libs


def copy_dependencies(pom: Path, version: str, dest: Path, report: Reporter) -> None:
    """`mvn dependency:copy-dependencies` of a pom into dest, showing each download."""
    mvn = require_tool("mvn", MAVEN_HINT)
    dest.mkdir(parents=True, exist_ok=True)
    argv = [
        mvn, "-B", "-f", str(pom),
        f"-Dkafka.version={version}",
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={dest}",
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    tail: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip()
        tail = (tail + [line])[-30:]
        if match := re.search(r"Download(?:ing|ed) from \S+: (\S+)", line):
            report("kafka", f"maven: {match.group(1).rsplit('/', 1)[-1]}")
    if proc.wait() != 0:
        raise StackError(
            f"Maven could not fetch Apache Kafka {version}:\n    " + "\n    ".join(tail[-12:]),
            hint="check that Maven Central is reachable and kafka.version names a released version",
        )
    if not any(dest.glob("kafka_2.13-*.jar")):
        raise StackError(f"Maven finished but no kafka_2.13 jar is in {dest}")
