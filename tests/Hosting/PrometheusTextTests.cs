using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using FluentAssertions;
using NodeAgent.Hosting;
using NodeAgent.Sync;
using Xunit;

namespace NodeAgent.Tests.Hosting;

/// <summary>
/// The text format 0.0.4 writer on its own: what each kind of instrument becomes, escaping,
/// number formatting and order, and that Prometheus' grammar accepts every sample line.
/// </summary>
public sealed partial class PrometheusTextTests : IDisposable
{
    private readonly Meter _meter = new("test-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => _meter.Dispose();

    [Fact]
    public void Label_values_escape_backslash_quote_and_newline()
    {
        var counter = _meter.CreateCounter<long>("weird_total", description: "help with \\ and \"quotes\"\nand a newline");
        using var exporter = new PrometheusText(_meter);
        counter.Add(1, new KeyValuePair<string, object?>("path", "C:\\dir \"x\"\nnext"));

        exporter.Scrape().Should().Be(
            "# HELP weird_total help with \\\\ and \"quotes\"\\nand a newline\n" +
            "# TYPE weird_total counter\n" +
            "weird_total{path=\"C:\\\\dir \\\"x\\\"\\nnext\"} 1\n");
    }

    [Fact]
    public void Counters_add_up_per_label_set_and_gauges_keep_the_last_value()
    {
        var counter = _meter.CreateCounter<long>("requests_total");
        var ratio = _meter.CreateCounter<double>("seconds_total");
        var queue = _meter.CreateUpDownCounter<int>("queue_depth");
        var temperature = _meter.CreateGauge<double>("temperature_celsius");
        using var exporter = new PrometheusText(_meter);

        counter.Add(2, new KeyValuePair<string, object?>("code", "200"));
        counter.Add(3, new KeyValuePair<string, object?>("code", "200"));
        counter.Add(1, new KeyValuePair<string, object?>("code", "503"));
        ratio.Add(0.1);
        ratio.Add(0.2);
        queue.Add(5);
        queue.Add(-2);
        temperature.Record(21.5);
        temperature.Record(-3.25);

        Samples(exporter.Scrape()).Should().Equal(
            "queue_depth 3",
            "requests_total{code=\"200\"} 5",
            "requests_total{code=\"503\"} 1",
            "seconds_total 0.30000000000000004",
            "temperature_celsius -3.25");
        exporter.Scrape().Should().Contain("# TYPE queue_depth gauge\n").And.Contain("# TYPE requests_total counter\n")
            .And.Contain("# TYPE temperature_celsius gauge\n");
    }

    [Fact]
    public void Labels_are_sorted_by_name_so_the_same_series_is_one_line()
    {
        var counter = _meter.CreateCounter<long>("pairs_total");
        using var exporter = new PrometheusText(_meter);
        counter.Add(1, new KeyValuePair<string, object?>("b", "2"), new KeyValuePair<string, object?>("a", "1"));
        counter.Add(1, new KeyValuePair<string, object?>("a", "1"), new KeyValuePair<string, object?>("b", "2"));

        Samples(exporter.Scrape()).Should().Equal("pairs_total{a=\"1\",b=\"2\"} 2");
    }

    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(1e21, "1E+21")]
    [InlineData(1795348800.25, "1795348800.25")]
    [InlineData(-0.5, "-0.5")]
    [InlineData(0, "0")]
    public void Numbers_are_invariant_and_round_trip(double value, string text)
    {
        var gauge = _meter.CreateGauge<double>("value");
        using var exporter = new PrometheusText(_meter);
        gauge.Record(value);
        Samples(exporter.Scrape()).Should().Equal("value " + text);
    }

    [Fact]
    public void Names_a_metric_cannot_hold_become_underscores_and_histograms_are_left_out()
    {
        var dotted = _meter.CreateCounter<long>("http.server.requests");
        var histogram = _meter.CreateHistogram<double>("latency_seconds");
        using var exporter = new PrometheusText(_meter);
        dotted.Add(1, new KeyValuePair<string, object?>("http.method", "GET"));
        histogram.Record(0.5);

        Samples(exporter.Scrape()).Should().Equal("http_server_requests{http_method=\"GET\"} 1");
        exporter.Scrape().Should().NotContain("latency");
    }

    [Fact]
    public void Other_meters_are_not_exported_and_a_disposed_meter_leaves_no_family()
    {
        using var other = new Meter("other-" + Guid.NewGuid().ToString("N"));
        other.CreateCounter<long>("foreign_total").Add(1);
        var local = new Meter("local-" + Guid.NewGuid().ToString("N"));
        var counter = local.CreateCounter<long>("mine_total");
        using var exporter = new PrometheusText(local);
        counter.Add(1);
        exporter.Scrape().Should().Contain("mine_total 1").And.NotContain("foreign");

        local.Dispose();
        exporter.Scrape().Should().BeEmpty();
    }

    [Fact]
    public async Task Concurrent_adds_and_scrapes_lose_nothing()
    {
        var counter = _meter.CreateCounter<long>("hits_total");
        using var exporter = new PrometheusText(_meter);
        var adders = Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                counter.Add(1);
            }
        }));
        var scraper = Task.Run(() =>
        {
            for (var i = 0; i < 200; i++)
            {
                exporter.Scrape();
            }
        });
        await Task.WhenAll(adders.Append(scraper));

        Samples(exporter.Scrape()).Should().Equal("hits_total 80000");
    }

    [Fact]
    public async Task WriteAsync_writes_the_scrape_as_UTF8()
    {
        _meter.CreateCounter<long>("bytes_total", description: "größe").Add(7);
        using var exporter = new PrometheusText(_meter);
        using var stream = new MemoryStream();
        await exporter.WriteAsync(stream, CancellationToken.None);
        System.Text.Encoding.UTF8.GetString(stream.ToArray()).Should().Be(exporter.Scrape());
    }

    [Fact]
    public void Every_line_of_a_busy_daemon_scrape_follows_the_format()
    {
        using var metrics = new AgentMetrics("0.1.0-dev+abc");
        using var exporter = new PrometheusText(metrics.Meter);
        metrics.Record(new SyncResult(SyncOutcome.Applied) { FilesChanged = 2, Reloads = 1, CaEarliestExpiry = DateTimeOffset.UnixEpoch.AddDays(20000) }, DateTimeOffset.UnixEpoch.AddDays(19000.123));
        metrics.Record(new SyncResult(SyncOutcome.RolledBack) { Reloads = 2, FailedReloads = 1, CaEarliestExpiry = DateTimeOffset.UnixEpoch.AddDays(20000.5) }, DateTimeOffset.UnixEpoch.AddDays(19001));
        foreach (var reason in AgentMetrics.WatchRestartReasons)
        {
            metrics.WatchRestarted("imagedigestmirrorsets", reason);
        }
        metrics.SetReady(true);

        var scrape = exporter.Scrape();
        scrape.Should().EndWith("\n");
        var lines = scrape[..^1].Split('\n');
        var described = new HashSet<string>();
        var typed = new HashSet<string>();
        foreach (var line in lines)
        {
            if (line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                described.Add(line.Split(' ')[2]).Should().BeTrue($"one HELP per family: {line}");
                continue;
            }
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                TypeLine().IsMatch(line).Should().BeTrue(line);
                typed.Add(line.Split(' ')[2]).Should().BeTrue($"one TYPE per family: {line}");
                continue;
            }
            var match = SampleLine().Match(line);
            match.Success.Should().BeTrue($"sample line must be name{{labels}} value: {line}");
            typed.Should().Contain(match.Groups["name"].Value, "a TYPE comes before the samples of its family");
        }
        described.Should().BeEquivalentTo(typed);
        lines.Count(l => !l.StartsWith('#')).Should().Be(5 + 2 + 4 + 4 + 7, "sync results, reloads, watch reasons, drifted file kinds and the single-series families");
    }

    private static string[] Samples(string scrape) =>
        scrape.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')).ToArray();

    [GeneratedRegex("""^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$""")]
    private static partial Regex TypeLine();

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*\})? (NaN|[+-]Inf|[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)$""")]
    private static partial Regex SampleLine();
}
