using System.Diagnostics;
using System.Text;
using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Cluster;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Cluster;

/// <summary>
/// One <see cref="Reflector"/> in process against the fake API server, for what the daemon tests
/// cannot see from outside: how often it asks when the server misbehaves.
/// </summary>
public sealed class ReflectorTests : IAsyncLifetime, IDisposable
{
    private FakeApiServer _server = null!;
    private KubeClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeApiServer.StartAsync();
        _client = _server.CreateClient();
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _server.Pki.Dispose();
    }

    public void Dispose() => _client.Dispose();

    private Reflector Reflector(Action? changed = null) => new(
        new WatchedResource(WatchedKind.ImageDigestMirrorSet, ResourceType.ImageDigestMirrorSets),
        _client,
        new WatchTiming { BackoffCap = TimeSpan.FromSeconds(10) },
        NullLogger.Instance,
        changed ?? (() => { }),
        (_, _) => { });

    [Fact]
    public async Task Watches_that_end_at_once_and_empty_are_renewed_on_the_backoff_not_in_a_loop()
    {
        var idms = _server.Serve(ResourceType.ImageDigestMirrorSets.Path, "ImageDigestMirrorSetList", "config.openshift.io/v1");
        idms.EndWatchesAtOnce = true;
        using var stop = new CancellationTokenSource();
        var reflector = Reflector();
        var running = reflector.RunAsync(stop.Token);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(3))
        {
            await Task.Delay(100);
        }
        await stop.CancelAsync();
        await running;

        reflector.Listed.Should().BeTrue();
        // 0.25–0.5 s, 0.5–1 s, 1–2 s, 2–4 s: at most five watches in three seconds, where a loop makes hundreds.
        idms.WatchCount.Should().BeInRange(2, 5);
    }

    [Fact]
    public async Task A_type_not_served_is_empty_listed_and_found_when_it_is_served()
    {
        _server.Unserve(ResourceType.ImageDigestMirrorSets.Path);
        using var stop = new CancellationTokenSource();
        var changes = 0;
        var reflector = Reflector(() => Interlocked.Increment(ref changes));
        var running = reflector.RunAsync(stop.Token);
        await WaitAsync(() => reflector.NotServed && reflector.Listed, "not served, listed as empty");
        reflector.Items().Should().BeEmpty();

        var idms = _server.Serve(ResourceType.ImageDigestMirrorSets.Path, "ImageDigestMirrorSetList", "config.openshift.io/v1");
        idms.Put(FakeApiServer.Object("config.openshift.io/v1", "ImageDigestMirrorSet", "late"));
        await WaitAsync(() => reflector.Items().Any(i => i.Name == "late"), "the object once the type is served");
        reflector.NotServed.Should().BeFalse();
        await stop.CancelAsync();
        await running;
    }

    private static async Task WaitAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(15), what);
            await Task.Delay(20);
        }
    }
}
