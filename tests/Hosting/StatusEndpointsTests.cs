using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FluentAssertions;
using NodeAgent.Hosting;
using NodeAgent.Sync;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Hosting;

/// <summary>The HTTP endpoints over a real socket on 127.0.0.1, with a real HttpClient.</summary>
public sealed class StatusEndpointsTests
{
    /// <summary>Endpoints on 127.0.0.1:0 over fresh metrics, with a client and a readiness to flip.</summary>
    private sealed class Server : IAsyncDisposable
    {
        private Server(AgentMetrics metrics, PrometheusText exporter)
        {
            Metrics = metrics;
            Exporter = exporter;
        }

        public AgentMetrics Metrics { get; }

        public PrometheusText Exporter { get; }

        public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(10) };

        public StatusEndpoints Endpoints { get; private set; } = null!;

        public Readiness Readiness { get; set; } = new(false, "waiting for the initial lists: imagedigestmirrorsets");

        public static async Task<Server> StartAsync()
        {
            var metrics = new AgentMetrics("9.9.9");
            var server = new Server(metrics, new PrometheusText(metrics.Meter));
            server.Endpoints = await StatusEndpoints.StartAsync("127.0.0.1:0", () => server.Readiness, server.Exporter, CancellationToken.None);
            return server;
        }

        public Uri Url(string path) => new($"http://{Endpoints.Bound}{path}");

        public async ValueTask DisposeAsync()
        {
            await Endpoints.DisposeAsync();
            Http.Dispose();
            Exporter.Dispose();
            Metrics.Dispose();
        }
    }

    [Fact]
    public async Task Port_0_reports_the_port_the_system_chose()
    {
        await using var server = await Server.StartAsync();
        server.Endpoints.Bound.Address.Should().Be(IPAddress.Loopback);
        server.Endpoints.Bound.Port.Should().BeInRange(1, 65535);
    }

    [Fact]
    public async Task Healthz_answers_ok()
    {
        await using var server = await Server.StartAsync();
        using var response = await server.Http.GetAsync(server.Url("/healthz"));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("ok\n");
        response.Content.Headers.ContentType!.ToString().Should().Be("text/plain; charset=utf-8");
        response.Headers.CacheControl!.NoStore.Should().BeTrue();
        response.Headers.Contains("Server").Should().BeFalse("the server does not advertise itself");
    }

    [Fact]
    public async Task Readyz_follows_the_readiness_both_ways_with_the_reason()
    {
        await using var server = await Server.StartAsync();
        using (var waiting = await server.Http.GetAsync(server.Url("/readyz")))
        {
            waiting.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
            (await waiting.Content.ReadAsStringAsync()).Should().Be("waiting for the initial lists: imagedigestmirrorsets\n");
        }

        server.Readiness = new Readiness(true, "");
        using (var ready = await server.Http.GetAsync(server.Url("/readyz")))
        {
            ready.StatusCode.Should().Be(HttpStatusCode.OK);
            (await ready.Content.ReadAsStringAsync()).Should().Be("ready\n");
        }

        server.Readiness = new Readiness(false, "last pass failed:\ninvalid input");
        using var failed = await server.Http.GetAsync(server.Url("/readyz"));
        failed.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await failed.Content.ReadAsStringAsync()).Should().Be("last pass failed: invalid input\n");
    }

    [Fact]
    public async Task Metrics_serves_the_scrape_as_text_format_0_0_4()
    {
        await using var server = await Server.StartAsync();
        server.Metrics.Record(new SyncResult(SyncOutcome.Applied) { FilesChanged = 2 }, DateTimeOffset.UnixEpoch.AddSeconds(1_800_000_000));
        server.Metrics.SetReady(true);

        using var response = await server.Http.GetAsync(server.Url("/metrics"));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be("text/plain; version=0.0.4; charset=utf-8");
        var body = await response.Content.ReadAsStringAsync();
        body.Should().Contain("\nnode_agent_sync_total{result=\"applied\"} 1\n")
            .And.Contain("\nnode_agent_files_written_total 2\n")
            .And.Contain("\nnode_agent_last_success_timestamp_seconds 1800000000\n")
            .And.Contain("\nnode_agent_ready 1\n")
            .And.Contain("\nnode_agent_info{version=\"9.9.9\"} 1\n");
        response.Content.Headers.ContentLength.Should().Be(System.Text.Encoding.UTF8.GetByteCount(body));
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/healthz/")]
    [InlineData("/HEALTHZ")]
    [InlineData("/metrics.txt")]
    [InlineData("/debug/pprof")]
    public async Task Other_paths_are_404(string path)
    {
        await using var server = await Server.StartAsync();
        using var response = await server.Http.GetAsync(server.Url(path));
        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("POST", "/healthz")]
    [InlineData("PUT", "/readyz")]
    [InlineData("DELETE", "/metrics")]
    [InlineData("OPTIONS", "/metrics")]
    public async Task Other_methods_are_405_with_the_allowed_ones(string method, string path)
    {
        await using var server = await Server.StartAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), server.Url(path));
        using var response = await server.Http.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
        response.Content.Headers.Allow.Should().Equal("GET", "HEAD");
    }

    [Fact]
    public async Task An_unknown_path_is_404_whatever_the_method()
    {
        await using var server = await Server.StartAsync();
        using var response = await server.Http.PostAsync(server.Url("/nothing"), new StringContent("x"));
        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Head_has_the_headers_of_get_and_no_body()
    {
        await using var server = await Server.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Head, server.Url("/healthz"));
        using var response = await server.Http.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentLength.Should().Be(3);
        (await response.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task A_readiness_callback_that_throws_is_a_500_and_the_server_keeps_serving()
    {
        await using var server = await Server.StartAsync();
        await using var endpoints = await StatusEndpoints.StartAsync("127.0.0.1:0",
            () => throw new InvalidOperationException("boom"), server.Exporter, CancellationToken.None);
        using (var response = await server.Http.GetAsync(new Uri($"http://{endpoints.Bound}/readyz")))
        {
            response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        }
        using var health = await server.Http.GetAsync(new Uri($"http://{endpoints.Bound}/healthz"));
        health.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [SkippableFact]
    public async Task IPv6_loopback_in_brackets_is_served()
    {
        Requires.That(Socket.OSSupportsIPv6, "this machine has no IPv6, so [::1] cannot be bound");
        await using var server = await Server.StartAsync();
        await using var endpoints = await StatusEndpoints.StartAsync("[::1]:0", () => new Readiness(true, ""), server.Exporter, CancellationToken.None);
        endpoints.Bound.Address.Should().Be(IPAddress.IPv6Loopback);
        using var response = await server.Http.GetAsync(new Uri($"http://{endpoints.Bound}/healthz"));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("")]
    [InlineData("9100")]
    [InlineData("localhost:9100")]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:65536")]
    [InlineData("::1:9100")]
    [InlineData("[::1]")]
    public async Task A_bad_listen_value_is_an_error_naming_it(string listen)
    {
        await using var server = await Server.StartAsync();
        var start = () => StatusEndpoints.StartAsync(listen, () => new Readiness(true, ""), server.Exporter, CancellationToken.None);
        (await start.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain($"Listen: \"{listen}\" is not ADDR:PORT");
    }

    [Fact]
    public async Task An_address_in_use_is_an_IOException_naming_it()
    {
        await using var server = await Server.StartAsync();
        var start = () => StatusEndpoints.StartAsync(server.Endpoints.Bound.ToString(), () => new Readiness(true, ""), server.Exporter, CancellationToken.None);
        (await start.Should().ThrowAsync<IOException>()).Which.Message.Should().Contain(server.Endpoints.Bound.ToString());
    }

    [Fact]
    public async Task Stopping_is_quick_even_with_a_connection_open()
    {
        await using var server = await Server.StartAsync();
        var endpoints = await StatusEndpoints.StartAsync("127.0.0.1:0", () => new Readiness(true, ""), server.Exporter, CancellationToken.None);
        using var idle = new TcpClient();
        await idle.ConnectAsync(endpoints.Bound);
        // A request that never finishes its headers keeps the connection busy.
        await idle.GetStream().WriteAsync("GET /healthz HTTP/1.1\r\nHost: x\r\n"u8.ToArray());

        var clock = Stopwatch.StartNew();
        await endpoints.DisposeAsync();
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(3));

        using var refused = new TcpClient();
        Func<Task> connect = () => refused.ConnectAsync(endpoints.Bound);
        await connect.Should().ThrowAsync<SocketException>("nothing listens after DisposeAsync");
    }
}
