using FluentAssertions;
using NodeAgent.Hosting;
using NodeAgent.Sync;
using Xunit;

namespace NodeAgent.Tests.Hosting;

/// <summary>The daemon's metrics as Prometheus scrapes them: exact names, labels and values.</summary>
public sealed class AgentMetricsTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private readonly AgentMetrics _metrics = new("1.2.3");
    private readonly PrometheusText _exporter;

    public AgentMetricsTests()
    {
        _exporter = new PrometheusText(_metrics.Meter);
    }

    public void Dispose()
    {
        _exporter.Dispose();
        _metrics.Dispose();
    }

    [Fact]
    public void A_scrape_before_the_first_pass_shows_every_result_at_zero()
    {
        _exporter.Scrape().Should().Be("""
            # HELP node_agent_ca_certificate_earliest_expiry_timestamp_seconds Unix time when the first of the rendered CA certificates expires; absent without CA certificates.
            # TYPE node_agent_ca_certificate_earliest_expiry_timestamp_seconds gauge
            # HELP node_agent_ca_certificate_expiry_timestamp_seconds Unix time when the first CA certificate for each registry host expires (one series per CA key in the ConfigMaps).
            # TYPE node_agent_ca_certificate_expiry_timestamp_seconds gauge
            # HELP node_agent_drift_total Managed files found changed by someone else since node-agent wrote them, once per foreign content, by kind of file.
            # TYPE node_agent_drift_total counter
            node_agent_drift_total{file="ca"} 0
            node_agent_drift_total{file="policy.json"} 0
            node_agent_drift_total{file="registries.conf"} 0
            node_agent_drift_total{file="search-drop-in"} 0
            # HELP node_agent_files_written_total Files whose bytes changed on disk: written, created, removed or restored.
            # TYPE node_agent_files_written_total counter
            node_agent_files_written_total 0
            # HELP node_agent_info Always 1; the version label says which node-agent runs.
            # TYPE node_agent_info gauge
            node_agent_info{version="1.2.3"} 1
            # HELP node_agent_last_success_timestamp_seconds Unix time of the last pass that applied changes or found nothing to change.
            # TYPE node_agent_last_success_timestamp_seconds gauge
            # HELP node_agent_ready 1 while the initial lists are complete and the last pass succeeded.
            # TYPE node_agent_ready gauge
            node_agent_ready 0
            # HELP node_agent_reloads_total Runtime reloads, by whether the reload and health check succeeded.
            # TYPE node_agent_reloads_total counter
            node_agent_reloads_total{result="failure"} 0
            node_agent_reloads_total{result="success"} 0
            # HELP node_agent_render_errors_total Errors found in the input, summed over passes.
            # TYPE node_agent_render_errors_total counter
            node_agent_render_errors_total 0
            # HELP node_agent_rollbacks_total Passes that put the last good files back after a failed reload.
            # TYPE node_agent_rollbacks_total counter
            node_agent_rollbacks_total 0
            # HELP node_agent_sync_total Reconcile passes, by how they ended.
            # TYPE node_agent_sync_total counter
            node_agent_sync_total{result="applied"} 0
            node_agent_sync_total{result="failed"} 0
            node_agent_sync_total{result="invalid_input"} 0
            node_agent_sync_total{result="rolled_back"} 0
            node_agent_sync_total{result="unchanged"} 0
            # HELP node_agent_watch_restarts_total Watches started again, by resource and reason.
            # TYPE node_agent_watch_restarts_total counter

            """.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Passes_and_watch_restarts_add_up()
    {
        _metrics.Record(new SyncResult(SyncOutcome.Applied) { FilesChanged = 3, Reloads = 1, CaEarliestExpiry = new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero) }, Start);
        _metrics.Record(new SyncResult(SyncOutcome.InvalidInput) { RenderErrors = 2 }, Start.AddSeconds(30));
        _metrics.Record(new SyncResult(SyncOutcome.RolledBack) { FilesChanged = 2, Reloads = 2, FailedReloads = 1, CaEarliestExpiry = new DateTimeOffset(2026, 12, 1, 0, 0, 0, 500, TimeSpan.Zero) }, Start.AddSeconds(60));
        _metrics.Record(new SyncResult(SyncOutcome.Unchanged) { CaEarliestExpiry = new DateTimeOffset(2026, 12, 1, 0, 0, 0, 500, TimeSpan.Zero) }, Start.AddSeconds(90.25));
        _metrics.Record(new SyncResult(SyncOutcome.Applied)
        {
            Drifted = ["etc/containers/registries.conf", "etc/docker/certs.d/a.example:5000/ca.crt", "etc/containers/certs.d/b.example/ca.crt"],
            DriftHeld = ["etc/containers/policy.json"],
            CaEarliestExpiry = new DateTimeOffset(2026, 12, 1, 0, 0, 0, 500, TimeSpan.Zero),
        }, Start.AddSeconds(90.25));
        _metrics.WatchRestarted("imagedigestmirrorsets", "gone");
        _metrics.WatchRestarted("imagecontentsourcepolicies", "not_served");
        _metrics.WatchRestarted("imagedigestmirrorsets", "gone");
        _metrics.WatchRestarted("configmaps", "error");
        _metrics.SetReady(true);

        Samples(_exporter.Scrape()).Should().Equal(
            "node_agent_ca_certificate_earliest_expiry_timestamp_seconds 1796083200.5",
            "node_agent_drift_total{file=\"ca\"} 2",
            "node_agent_drift_total{file=\"policy.json\"} 0",
            "node_agent_drift_total{file=\"registries.conf\"} 1",
            "node_agent_drift_total{file=\"search-drop-in\"} 0",
            "node_agent_files_written_total 5",
            "node_agent_info{version=\"1.2.3\"} 1",
            "node_agent_last_success_timestamp_seconds 1795348890.25",
            "node_agent_ready 1",
            "node_agent_reloads_total{result=\"failure\"} 1",
            "node_agent_reloads_total{result=\"success\"} 2",
            "node_agent_render_errors_total 2",
            "node_agent_rollbacks_total 1",
            "node_agent_sync_total{result=\"applied\"} 2",
            "node_agent_sync_total{result=\"failed\"} 0",
            "node_agent_sync_total{result=\"invalid_input\"} 1",
            "node_agent_sync_total{result=\"rolled_back\"} 1",
            "node_agent_sync_total{result=\"unchanged\"} 1",
            "node_agent_watch_restarts_total{reason=\"error\",resource=\"configmaps\"} 1",
            "node_agent_watch_restarts_total{reason=\"gone\",resource=\"imagedigestmirrorsets\"} 2",
            "node_agent_watch_restarts_total{reason=\"not_served\",resource=\"imagecontentsourcepolicies\"} 1");
    }

    [Fact]
    public void Only_applied_and_unchanged_passes_move_the_last_success()
    {
        _metrics.Record(new SyncResult(SyncOutcome.Unchanged), Start);
        foreach (var outcome in new[] { SyncOutcome.Failed, SyncOutcome.InvalidInput, SyncOutcome.RolledBack })
        {
            _metrics.Record(new SyncResult(outcome), Start.AddMinutes(5));
        }
        Samples(_exporter.Scrape()).Should().Contain("node_agent_last_success_timestamp_seconds 1795348800");

        _metrics.Record(new SyncResult(SyncOutcome.Applied), Start.AddMinutes(10));
        Samples(_exporter.Scrape()).Should().Contain("node_agent_last_success_timestamp_seconds 1795349400");
    }

    [Fact]
    public void The_CA_expiry_per_host_follows_each_pass_but_not_invalid_input()
    {
        var expiry = new Dictionary<string, DateTimeOffset>
        {
            ["mirror.example:5000"] = new(2027, 1, 1, 0, 0, 0, TimeSpan.Zero),
            ["a.example"] = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero),
        };
        _metrics.Record(new SyncResult(SyncOutcome.Applied) { CaExpiryByHost = expiry }, Start);
        _metrics.Record(new SyncResult(SyncOutcome.InvalidInput), Start.AddMinutes(1));

        Samples(_exporter.Scrape()).Where(s => s.StartsWith("node_agent_ca_certificate_expiry", StringComparison.Ordinal)).Should().Equal(
            "node_agent_ca_certificate_expiry_timestamp_seconds{host=\"a.example\"} 1796083200",
            "node_agent_ca_certificate_expiry_timestamp_seconds{host=\"mirror.example:5000\"} 1798761600");

        _metrics.Record(new SyncResult(SyncOutcome.Applied), Start.AddMinutes(2));
        Samples(_exporter.Scrape()).Should().NotContain(s => s.StartsWith("node_agent_ca_certificate_expiry", StringComparison.Ordinal), "no CA files, no series");
    }

    [Fact]
    public void The_CA_expiry_follows_each_pass_and_disappears_without_CA_certificates()
    {
        _metrics.Record(new SyncResult(SyncOutcome.Applied) { CaEarliestExpiry = new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero) }, Start);
        Samples(_exporter.Scrape()).Should().Contain("node_agent_ca_certificate_earliest_expiry_timestamp_seconds 1798761600");

        _metrics.Record(new SyncResult(SyncOutcome.Applied), Start.AddMinutes(1));
        var scrape = _exporter.Scrape();
        Samples(scrape).Should().NotContain(s => s.StartsWith("node_agent_ca_certificate", StringComparison.Ordinal));
        scrape.Should().Contain("# TYPE node_agent_ca_certificate_earliest_expiry_timestamp_seconds gauge\n",
            "the family stays described while it has no sample");
    }

    [Fact]
    public void Readiness_flips_both_ways()
    {
        _metrics.SetReady(true);
        Samples(_exporter.Scrape()).Should().Contain("node_agent_ready 1");
        _metrics.SetReady(false);
        Samples(_exporter.Scrape()).Should().Contain("node_agent_ready 0");
    }

    [Fact]
    public void A_dry_run_is_not_a_daemon_pass()
    {
        _metrics.Record(new SyncResult(SyncOutcome.DryRun) { FilesChanged = 4 }, Start);
        Samples(_exporter.Scrape()).Where(s => s.StartsWith("node_agent_sync_total", StringComparison.Ordinal))
            .Should().OnlyContain(s => s.EndsWith(" 0", StringComparison.Ordinal));
    }

    [Fact]
    public void An_exporter_attached_after_passes_sees_their_totals()
    {
        using var metrics = new AgentMetrics("0.1.0");
        metrics.Record(new SyncResult(SyncOutcome.Failed), Start);
        metrics.WatchRestarted("imagetagmirrorsets", "closed");

        using var late = new PrometheusText(metrics.Meter);
        Samples(late.Scrape()).Should().Contain(
            ["node_agent_sync_total{result=\"failed\"} 1", "node_agent_watch_restarts_total{reason=\"closed\",resource=\"imagetagmirrorsets\"} 1"]);
    }

    [Theory]
    [InlineData("gone ")]
    [InlineData("timeout")]
    [InlineData("")]
    public void An_unknown_watch_restart_reason_is_refused(string reason)
    {
        var act = () => _metrics.WatchRestarted("imagedigestmirrorsets", reason);
        act.Should().Throw<ArgumentException>().WithMessage("*gone, error, closed, not_served*");
    }

    [Fact]
    public void The_meter_is_named_NodeAgent_and_carries_the_version()
    {
        _metrics.Meter.Name.Should().Be("NodeAgent");
        _metrics.Meter.Version.Should().Be("1.2.3");
    }

    private static string[] Samples(string scrape) =>
        scrape.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')).ToArray();
}
