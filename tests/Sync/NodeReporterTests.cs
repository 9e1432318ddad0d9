using FluentAssertions;
using NodeAgent.Sync;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Sync;

/// <summary>
/// The Node annotation and Events <c>--report-status</c> publishes, against the in-process fake
/// API server: what is written, when nothing is, and that a missing permission never throws.
/// </summary>
public sealed class NodeReporterTests : IAsyncLifetime
{
    private const string NodeName = "worker-1";

    private FakeCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await FakeCluster.StartAsync();
        _cluster.AddNode(NodeName);
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static NodeStatus Status(string result, string summary, string time = "2026-11-22T12:00:00Z") => new()
    {
        Time = time,
        Result = result,
        Summary = summary,
        RenderedHash = "0123456789abcdef0123456789abcdef",
        Generations = new(StringComparer.Ordinal) { ["Image/cluster"] = "3", ["ImageDigestMirrorSet/release"] = "2" },
    };

    [Fact]
    public async Task An_applied_pass_annotates_the_node_and_records_a_normal_event()
    {
        using var client = _cluster.Server.CreateClient(FakeCluster.Token);
        var reporter = new NodeReporter(client, NodeName, new RecordingLogger());

        await reporter.ReportAsync(SyncOutcome.Applied, Status("Applied", "2 file(s) changed, runtime reloaded"), CancellationToken.None);

        _cluster.NodeAnnotations(NodeName)![NodeReporter.AnnotationKey]!.GetValue<string>().Should().Be(
            """{"result":"Applied","hash":"0123456789abcdef","generations":{"Image/cluster":"3","ImageDigestMirrorSet/release":"2"},"time":"2026-11-22T12:00:00Z"}""");
        var recorded = _cluster.Events().Should().ContainSingle().Subject;
        recorded["type"]!.GetValue<string>().Should().Be("Normal");
        recorded["reason"]!.GetValue<string>().Should().Be("RegistryConfigApplied");
        recorded["message"]!.GetValue<string>().Should().Be("2 file(s) changed, runtime reloaded");
        recorded["involvedObject"]!["kind"]!.GetValue<string>().Should().Be("Node");
        recorded["involvedObject"]!["name"]!.GetValue<string>().Should().Be(NodeName);
        recorded["metadata"]!["name"]!.GetValue<string>().Should().StartWith(NodeName + ".");
        recorded["source"]!["component"]!.GetValue<string>().Should().Be("node-agent");
    }

    [Fact]
    public async Task Nothing_new_writes_nothing()
    {
        using var client = _cluster.Server.CreateClient(FakeCluster.Token);
        var reporter = new NodeReporter(client, NodeName, new RecordingLogger());
        await reporter.ReportAsync(SyncOutcome.Applied, Status("Applied", "1 file(s) changed"), CancellationToken.None);
        var writes = Writes();

        await reporter.ReportAsync(SyncOutcome.Unchanged, Status("Applied", "1 file(s) changed", time: "2026-11-22T13:00:00Z"), CancellationToken.None);

        Writes().Should().Be(writes, "an unchanged pass with the same status is no news");
        _cluster.Events().Should().ContainSingle();
    }

    [Fact]
    public async Task A_failure_repeated_is_one_warning_event_and_a_new_one_is_another()
    {
        using var client = _cluster.Server.CreateClient(FakeCluster.Token);
        var reporter = new NodeReporter(client, NodeName, new RecordingLogger());

        await reporter.ReportAsync(SyncOutcome.InvalidInput, Status("InvalidInput", "invalid input, files kept: ImageDigestMirrorSet/x: bad"), CancellationToken.None);
        await reporter.ReportAsync(SyncOutcome.InvalidInput, Status("InvalidInput", "invalid input, files kept: ImageDigestMirrorSet/x: bad"), CancellationToken.None);
        await reporter.ReportAsync(SyncOutcome.RolledBack, Status("RolledBack", "reload failed (x); rolled back to the last good files"), CancellationToken.None);

        _cluster.Events().Select(e => (e["type"]!.GetValue<string>(), e["reason"]!.GetValue<string>())).Should().Equal(
            ("Warning", "RegistryConfigInvalid"), ("Warning", "RegistryConfigRolledBack"));
        _cluster.NodeAnnotations(NodeName)![NodeReporter.AnnotationKey]!.GetValue<string>().Should().Contain("\"result\":\"RolledBack\"");
    }

    [Fact]
    public async Task Ca_alerts_become_warning_events()
    {
        using var client = _cluster.Server.CreateClient(FakeCluster.Token);
        var reporter = new NodeReporter(client, NodeName, new RecordingLogger());
        var notAfter = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

        await reporter.ReportAsync([new CaExpiryAlert("mirror.example:5000", notAfter, 30, 8), new CaExpiryAlert("old.example", notAfter, 0, -1)], CancellationToken.None);

        _cluster.Events().Select(e => (e["reason"]!.GetValue<string>(), e["message"]!.GetValue<string>())).Should().Equal(
            ("CACertificateExpiring", "the CA certificate for mirror.example:5000 expires at 2026-12-01T00:00:00Z, in 8 days"),
            ("CACertificateExpired", "the CA certificate for old.example expired at 2026-12-01T00:00:00Z; pulls from it fail TLS verification"));
    }

    [Fact]
    public async Task Without_permission_it_warns_once_and_never_throws()
    {
        _cluster.Server.ForbidWrites = true;
        using var client = _cluster.Server.CreateClient(FakeCluster.Token);
        var logger = new RecordingLogger();
        var reporter = new NodeReporter(client, NodeName, logger);

        await reporter.ReportAsync(SyncOutcome.Applied, Status("Applied", "a"), CancellationToken.None);
        await reporter.ReportAsync(SyncOutcome.Applied, Status("Applied", "b"), CancellationToken.None);

        logger.Entries.Where(e => e.EventId == 90).Should().ContainSingle()
            .Which.Message.Should().Contain("403").And.Contain("deploy/optional/status-rbac.yaml");
        _cluster.Events().Should().BeEmpty();

        _cluster.Server.ForbidWrites = false;
        await reporter.ReportAsync(SyncOutcome.Applied, Status("Applied", "c"), CancellationToken.None);
        logger.Entries.Should().Contain(e => e.EventId == 91, "the recovery is logged");
        _cluster.Events().Should().ContainSingle();
    }

    private int Writes() => _cluster.Server.Requests.Count;
}
