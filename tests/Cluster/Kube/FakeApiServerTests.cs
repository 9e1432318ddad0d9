using System.Diagnostics;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using FluentAssertions;
using NodeAgent.Cluster;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Cluster.Kube;

/// <summary>
/// The fake API server's list/watch semantics and faults, seen through the real
/// <see cref="KubeClient"/>: the daemon's tests rely on them behaving as the real server does.
/// </summary>
public sealed class FakeApiServerTests : IAsyncLifetime, IDisposable
{
    private const string ConfigV1 = "config.openshift.io/v1";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private static readonly ResourceType Idms = ResourceType.ImageDigestMirrorSets;
    private static readonly ResourceType ConfigMaps = ResourceType.ConfigMaps("openshift-config");

    private FakeApiServer _server = null!;
    private FakeApiServer.FakeResource _idms = null!;
    private KubeClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeApiServer.StartAsync();
        _idms = _server.Serve(Idms.Path, "ImageDigestMirrorSetList", ConfigV1);
        _client = _server.CreateClient();
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _server.Pki.Dispose();
    }

    public void Dispose() => _client.Dispose();

    private static JsonObject Mirrors(string name) =>
        FakeApiServer.Object(ConfigV1, "ImageDigestMirrorSet", name, new JsonObject { ["imageDigestMirrors"] = new JsonArray() });

    private static string NameOf(JsonObject obj) => obj["metadata"]!["name"]!.GetValue<string>();

    private static (WatchEventType, string, string?) Seen(WatchEvent e) => (e.Type, NameOf(e.Object), e.ResourceVersion);

    private Recorder Watch(string resourceVersion, string? fieldSelector = null, ResourceType? type = null, int timeoutSeconds = 300) =>
        new(_client, type ?? Idms, resourceVersion, fieldSelector, timeoutSeconds);

    [Fact]
    public async Task Put_and_Delete_take_the_next_server_wide_resource_version_and_a_watch_sees_each_change()
    {
        var configMaps = _server.Serve(ConfigMaps.Path, "ConfigMapList", "v1");
        var listed = await _client.ListAsync(Idms, null, CancellationToken.None);
        await using var watch = Watch(listed.ResourceVersion);
        await WaitUntil(() => _idms.OpenWatches == 1);

        var stored = _idms.Put(Mirrors("a"));
        configMaps.Put(new JsonObject { ["metadata"] = new JsonObject { ["name"] = "ca" }, ["data"] = new JsonObject() });
        _idms.Put(Mirrors("a"));
        _idms.Delete("a");

        listed.ResourceVersion.Should().Be("1");
        stored["metadata"]!["resourceVersion"]!.GetValue<string>().Should().Be("2");
        (await watch.NextAsync(3)).Select(Seen).Should().Equal(
            (WatchEventType.Added, "a", "2"), (WatchEventType.Modified, "a", "4"), (WatchEventType.Deleted, "a", "5"));
        (await _client.ListAsync(Idms, null, CancellationToken.None)).Should().BeEquivalentTo(new KubeList("5", []));
        var configMap = (await _client.ListAsync(ConfigMaps, null, CancellationToken.None)).Items.Single();
        configMap["metadata"]!["namespace"]!.GetValue<string>().Should().Be("openshift-config");
        configMap["metadata"]!["resourceVersion"]!.GetValue<string>().Should().Be("3");
        _server.ResourceVersion.Should().Be(5);
    }

    [Fact]
    public async Task A_watch_from_a_listed_version_replays_only_what_changed_since()
    {
        _idms.Put(Mirrors("a"));
        var listed = await _client.ListAsync(Idms, null, CancellationToken.None);
        _idms.Put(Mirrors("b"));
        _idms.Put(Mirrors("a"));

        await using var watch = Watch(listed.ResourceVersion);

        listed.ResourceVersion.Should().Be("2");
        (await watch.NextAsync(2)).Select(Seen).Should().Equal((WatchEventType.Added, "b", "3"), (WatchEventType.Modified, "a", "4"));
    }

    [Fact]
    public async Task A_watch_from_version_zero_starts_with_every_current_object_as_ADDED()
    {
        _idms.Put(Mirrors("b"));
        _idms.Put(Mirrors("a"));
        await using var watch = Watch("0");
        await WaitUntil(() => _idms.OpenWatches == 1);

        _idms.Put(Mirrors("c"));

        (await watch.NextAsync(3)).Select(Seen).Should().Equal(
            (WatchEventType.Added, "a", "3"), (WatchEventType.Added, "b", "2"), (WatchEventType.Added, "c", "4"));
    }

    [Fact]
    public async Task Field_selectors_on_name_and_namespace_filter_lists_and_watches()
    {
        var configMaps = _server.Serve(ConfigMaps.Path, "ConfigMapList", "v1");
        configMaps.Put(FakeApiServer.Object("v1", "ConfigMap", "ca"));
        _idms.Put(Mirrors("a"));
        _idms.Put(Mirrors("b"));
        async Task<IEnumerable<string>> Names(ResourceType type, string selector) =>
            (await _client.ListAsync(type, selector, CancellationToken.None)).Items.Select(NameOf);

        (await Names(Idms, "metadata.name=a")).Should().Equal("a");
        (await Names(Idms, "metadata.name==b")).Should().Equal("b");
        (await Names(Idms, "metadata.name!=a")).Should().Equal("b");
        (await Names(Idms, "metadata.name=zz")).Should().BeEmpty();
        (await Names(ConfigMaps, "metadata.namespace=openshift-config,metadata.name=ca")).Should().Equal("ca");
        (await Names(ConfigMaps, "metadata.namespace=default")).Should().BeEmpty();
        var unsupported = () => _client.ListAsync(Idms, "spec.foo=bar", CancellationToken.None);
        (await unsupported.Should().ThrowAsync<KubeApiException>()).Which.StatusCode.Should().Be(400);

        await using var fromNow = Watch("0", "metadata.name=a");
        await using var replay = Watch("1", "metadata.name==b");
        await WaitUntil(() => _idms.OpenWatches == 2);
        _idms.Put(Mirrors("b"));
        _idms.Put(Mirrors("a"));

        (await fromNow.NextAsync(2)).Select(Seen).Should().Equal((WatchEventType.Added, "a", "3"), (WatchEventType.Modified, "a", "6"));
        (await replay.NextAsync(2)).Select(Seen).Should().Equal((WatchEventType.Added, "b", "4"), (WatchEventType.Modified, "b", "5"));
        _idms.SendBookmarks();
        (await fromNow.NextAsync()).Type.Should().Be(WatchEventType.Bookmark, "b's changes are not for this watch");
        (await replay.NextAsync()).Type.Should().Be(WatchEventType.Bookmark, "a's changes are not for this watch");
    }

    [Fact]
    public async Task Every_open_watch_gets_each_change()
    {
        await using var first = Watch("1");
        await using var second = Watch("1");
        await WaitUntil(() => _idms.OpenWatches == 2);

        _idms.Put(Mirrors("a"));

        Seen(await first.NextAsync()).Should().Be((WatchEventType.Added, "a", "2"));
        Seen(await second.NextAsync()).Should().Be((WatchEventType.Added, "a", "2"));
        _idms.WatchCount.Should().Be(2);
    }

    [Fact]
    public async Task A_watch_from_before_a_compaction_is_gone_and_one_from_after_it_is_not()
    {
        _idms.Put(Mirrors("a"));
        _idms.Put(Mirrors("a"));
        _idms.Compact();

        var old = () => Watch("2").Ended.WaitAsync(Deadline);
        var gone = await old.Should().ThrowAsync<KubeApiException>();
        await using var current = Watch("3");
        await WaitUntil(() => _idms.OpenWatches == 1);
        _idms.Put(Mirrors("a"));

        gone.Which.IsGone.Should().BeTrue();
        gone.Which.Reason.Should().Be("Expired");
        Seen(await current.NextAsync()).Should().Be((WatchEventType.Modified, "a", "4"));
    }

    [Fact]
    public async Task Dropped_watches_end_with_an_IO_error_and_a_new_watch_resumes_where_they_were()
    {
        await using var first = Watch("1");
        await using var second = Watch("1");
        await WaitUntil(() => _idms.OpenWatches == 2);

        _idms.DropWatches();

        await ((Func<Task>)(() => first.Ended.WaitAsync(Deadline))).Should().ThrowAsync<IOException>();
        await ((Func<Task>)(() => second.Ended.WaitAsync(Deadline))).Should().ThrowAsync<IOException>();
        await WaitUntil(() => _idms.OpenWatches == 0);
        _idms.Put(Mirrors("a"));
        await using var resumed = Watch("1");
        Seen(await resumed.NextAsync()).Should().Be((WatchEventType.Added, "a", "2"));
    }

    [Fact]
    public async Task Bookmarks_carry_the_current_resource_version()
    {
        await using var watch = Watch("1");
        await WaitUntil(() => _idms.OpenWatches == 1);
        _server.Serve(ConfigMaps.Path, "ConfigMapList", "v1").Put(FakeApiServer.Object("v1", "ConfigMap", "ca"));

        _idms.SendBookmarks();

        var bookmark = await watch.NextAsync();
        bookmark.Type.Should().Be(WatchEventType.Bookmark);
        bookmark.ResourceVersion.Should().Be("2");
        bookmark.Object["kind"]!.GetValue<string>().Should().Be("ImageDigestMirrorSet");
    }

    [Fact]
    public async Task A_watch_ends_cleanly_after_its_timeoutSeconds()
    {
        await using var watch = Watch("1", timeoutSeconds: 1);

        await watch.Ended.WaitAsync(Deadline);

        _idms.OpenWatches.Should().Be(0);
    }

    [Fact]
    public async Task FailAll_answers_every_request_with_its_status_and_cuts_open_watches_until_lifted()
    {
        _idms.Put(Mirrors("a"));
        await using var watch = Watch("2");
        await WaitUntil(() => _idms.OpenWatches == 1);

        _server.FailAll(503);

        await ((Func<Task>)(() => watch.Ended.WaitAsync(Deadline))).Should().ThrowAsync<IOException>();
        var list = () => _client.ListAsync(Idms, null, CancellationToken.None);
        var failed = await list.Should().ThrowAsync<KubeApiException>();
        failed.Which.StatusCode.Should().Be(503);
        failed.Which.Reason.Should().Be("ServiceUnavailable");
        var get = () => _client.GetAsync(Idms, "a", CancellationToken.None);
        (await get.Should().ThrowAsync<KubeApiException>()).Which.StatusCode.Should().Be(503);
        var rewatch = () => Watch("2").Ended.WaitAsync(Deadline);
        (await rewatch.Should().ThrowAsync<KubeApiException>()).Which.StatusCode.Should().Be(503);

        _server.FailAll(null);

        (await _client.ListAsync(Idms, null, CancellationToken.None)).Items.Select(NameOf).Should().Equal("a");
        _idms.ListCount.Should().Be(1);
        _idms.WatchCount.Should().Be(1);
    }

    [Fact]
    public async Task Going_away_cuts_and_refuses_connections_and_coming_back_keeps_the_port_and_the_objects()
    {
        _idms.Put(Mirrors("a"));
        var url = _server.Url;
        await using var watch = Watch("2");
        await WaitUntil(() => _idms.OpenWatches == 1);

        await _server.GoAwayAsync();

        await ((Func<Task>)(() => watch.Ended.WaitAsync(Deadline))).Should().ThrowAsync<IOException>();
        var refused = () => _client.ListAsync(Idms, null, CancellationToken.None);
        await refused.Should().ThrowAsync<HttpRequestException>();
        var squatter = new TcpListener(IPAddress.Loopback, url.Port);
        squatter.Invoking(l => l.Start()).Should().Throw<SocketException>("nothing else may take the port meanwhile");
        squatter.Dispose();
        _idms.Put(Mirrors("b"));

        await _server.ComeBackAsync();

        _server.Url.Should().Be(url);
        var listed = await _client.ListAsync(Idms, null, CancellationToken.None);
        listed.ResourceVersion.Should().Be("3");
        listed.Items.Select(NameOf).Should().Equal("a", "b");
        await using var resumed = Watch("2");
        Seen(await resumed.NextAsync()).Should().Be((WatchEventType.Added, "b", "3"));
    }

    [Fact]
    public async Task An_unserved_resource_type_is_404_until_it_is_served_again_empty()
    {
        _idms.Put(Mirrors("a"));
        await using var watch = Watch("2");
        await WaitUntil(() => _idms.OpenWatches == 1);

        _server.Unserve(Idms.Path);

        await watch.Ended.WaitAsync(Deadline);
        var list = () => _client.ListAsync(Idms, null, CancellationToken.None);
        var notFound = await list.Should().ThrowAsync<KubeApiException>();
        notFound.Which.StatusCode.Should().Be(404);
        notFound.Which.Reason.Should().Be("NotFound");
        var get = () => _client.GetAsync(Idms, "a", CancellationToken.None);
        (await get.Should().ThrowAsync<KubeApiException>()).Which.StatusCode.Should().Be(404);
        var rewatch = () => Watch("2").Ended.WaitAsync(Deadline);
        (await rewatch.Should().ThrowAsync<KubeApiException>()).Which.StatusCode.Should().Be(404);
        _idms.Invoking(i => i.Put(Mirrors("b"))).Should().Throw<InvalidOperationException>();

        var again = _server.Serve(Idms.Path, "ImageDigestMirrorSetList", ConfigV1);

        (await _client.ListAsync(Idms, null, CancellationToken.None)).Should().BeEquivalentTo(new KubeList("2", []));
        again.Should().NotBeSameAs(_idms);
    }

    [Fact]
    public async Task What_the_real_server_refuses_is_refused()
    {
        var configMaps = _server.Serve(ConfigMaps.Path, "ConfigMapList", "v1");

        var badVersion = () => Watch("yesterday").Ended.WaitAsync(Deadline);
        var badField = () => Watch("0", "spec.source=quay.io").Ended.WaitAsync(Deadline);

        (await badVersion.Should().ThrowAsync<KubeApiException>()).Which.Reason.Should().Be("BadRequest");
        (await badField.Should().ThrowAsync<KubeApiException>()).Which.Message.Should().Contain("field label not supported: spec.source");
        configMaps.Invoking(c => c.Put(FakeApiServer.Object("v1", "ConfigMap", "ca", ns: "default")))
            .Should().Throw<ArgumentException>().WithMessage("*namespace \"default\"*");
        _idms.Invoking(i => i.Delete("missing")).Should().Throw<KeyNotFoundException>();
        _server.ResourceVersion.Should().Be(1, "nothing was stored");
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!condition())
        {
            stopwatch.Elapsed.Should().BeLessThan(Deadline, "the condition should hold before the deadline");
            await Task.Delay(10);
        }
    }

    /// <summary>A watch running in the background; the test takes its events with a deadline.</summary>
    private sealed class Recorder : IAsyncDisposable
    {
        private readonly Channel<WatchEvent> _events = Channel.CreateUnbounded<WatchEvent>();
        private readonly CancellationTokenSource _cancel = new();

        public Recorder(KubeClient client, ResourceType type, string resourceVersion, string? fieldSelector, int timeoutSeconds)
        {
            Ended = RunAsync(client, type, resourceVersion, fieldSelector, timeoutSeconds);
        }

        /// <summary>Completes when the stream ends, faulted with what the client threw.</summary>
        public Task Ended { get; }

        public async Task<WatchEvent> NextAsync() => (await NextAsync(1))[0];

        public async Task<IReadOnlyList<WatchEvent>> NextAsync(int count)
        {
            using var deadline = new CancellationTokenSource(Deadline);
            var events = new List<WatchEvent>();
            while (events.Count < count)
            {
                events.Add(await _events.Reader.ReadAsync(deadline.Token));
            }
            return events;
        }

        public async ValueTask DisposeAsync()
        {
            await _cancel.CancelAsync();
            // However the watch ended, it has; the test has already looked at how.
            await Task.WhenAny(Ended);
            _cancel.Dispose();
        }

        private async Task RunAsync(KubeClient client, ResourceType type, string resourceVersion, string? fieldSelector, int timeoutSeconds)
        {
            try
            {
                await foreach (var e in client.WatchAsync(type, resourceVersion, fieldSelector, timeoutSeconds, _cancel.Token))
                {
                    _events.Writer.TryWrite(e);
                }
            }
            finally
            {
                _events.Writer.TryComplete();
            }
        }
    }
}
