"""A real Prometheus for the stack (`gameday up --with-prometheus`): the OS package's binary,
scraping every service's /metrics on the ports the stack actually gave them, with the alert
rules of monitoring/prometheus/rules.yml (the same checks the monitor alerts on)."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import yaml

from ..errors import MissingToolError
from ..stack.component import Component, LaunchSpec, StackContext
from ..stack.ports import LOOPBACK
from ..stack.state import ComponentRecord

PROMETHEUS_HINT = "install it from the OS packages (Debian/Ubuntu: `apt-get install -y prometheus`)"
# The repo's rules file (an editable install / a checkout); the stack copies it into the run folder.
RULES_FILE = Path(__file__).resolve().parents[2] / "monitoring" / "prometheus" / "rules.yml"
SCRAPED = ("producer", "ingest", "serving", "monitor")


def scrape_config(targets: dict[str, str], rule_files: list[str], interval_s: int = 5) -> dict:
    """Prometheus config: one job per service (job = component name), scraped at /metrics."""
    return {
        "global": {"scrape_interval": f"{interval_s}s", "evaluation_interval": f"{interval_s}s"},
        "rule_files": rule_files,
        "scrape_configs": [
            {"job_name": name, "metrics_path": "/metrics", "static_configs": [{"targets": [target]}]}
            for name, target in sorted(targets.items())
        ],
    }


def write_config(folder: Path, targets: dict[str, str], rules_source: Path | None = RULES_FILE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rule_files = []
    if rules_source is not None and rules_source.is_file():
        shutil.copyfile(rules_source, folder / "rules.yml")
        rule_files.append("rules.yml")
    path = folder / "prometheus.yml"
    path.write_text(yaml.safe_dump(scrape_config(targets, rule_files), sort_keys=False))
    return path


def service_targets(records: dict[str, ComponentRecord]) -> dict[str, str]:
    """host:port of each started service's HTTP endpoint."""
    targets = {}
    for name in SCRAPED:
        record = records.get(name)
        url = record.endpoints.get("http") if record else None
        if url:
            targets[name] = url.removeprefix("http://").rstrip("/")
    return targets


class PrometheusComponent(Component):
    name = "prometheus"
    depends_on = SCRAPED
    port_names = ("http",)

    def prepare(self, ctx: StackContext) -> None:
        if shutil.which(ctx.settings.monitor.prometheus_binary) is None:
            raise MissingToolError(f"`{ctx.settings.monitor.prometheus_binary}` was not found; "
                                   "--with-prometheus needs it", hint=PROMETHEUS_HINT)

    def launch(self, ctx: StackContext, ports: dict[str, int]) -> LaunchSpec:
        data = ctx.run.data_of(self.name)
        config = write_config(data, service_targets(ctx.records))
        return LaunchSpec(argv=[
            ctx.settings.monitor.prometheus_binary, f"--config.file={config}",
            f"--storage.tsdb.path={data / 'tsdb'}", f"--web.listen-address={LOOPBACK}:{ports['http']}",
            "--storage.tsdb.retention.time=2d", "--log.format=json",
        ], cwd=data)

    def endpoints(self, ctx: StackContext, ports: dict[str, int]) -> dict[str, str]:
        return {"http": f"http://{LOOPBACK}:{ports['http']}"}

    def is_ready(self, ctx: StackContext, record: ComponentRecord) -> bool:
        try:
            return httpx.get(record.endpoints["http"] + "/-/ready", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False
