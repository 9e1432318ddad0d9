using System.Net;
using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NodeAgent.Configuration;

namespace NodeAgent.Hosting;

/// <summary>
/// The daemon's HTTP endpoints on <c>--listen</c>: <c>/healthz</c> (the process answers),
/// <c>/readyz</c> (200 or 503 with the reason) and <c>/metrics</c> (Prometheus text). Kestrel
/// runs bare, with a three-path request handler and no web host, dependency injection or
/// routing: the endpoints are fixed, and every megabyte of an idle daemon counts on every node.
/// </summary>
public sealed class StatusEndpoints : IAsyncDisposable
{
    // Connections still open when the daemon stops get this long before they are cut, so
    // SIGTERM stays well inside its 5 s.
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(1);

    private readonly KestrelServer _server;

    private StatusEndpoints(KestrelServer server, IPEndPoint bound)
    {
        _server = server;
        Bound = bound;
    }

    /// <summary>The address listened on, with the port the system chose when given port 0.</summary>
    public IPEndPoint Bound { get; }

    /// <summary>
    /// Listens on <paramref name="listen"/> (<c>ADDR:PORT</c>, see <see cref="ListenAddress"/>).
    /// A bad value is an <see cref="ArgumentException"/> naming it; an address in use, an
    /// <see cref="IOException"/> naming the address.
    /// </summary>
    public static async Task<StatusEndpoints> StartAsync(string listen, Func<Readiness> readiness, PrometheusText metrics, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(readiness);
        ArgumentNullException.ThrowIfNull(metrics);
        if (!ListenAddress.TryParse(listen, out var endPoint, out var problem))
        {
            throw new ArgumentException($"Listen: {problem}", nameof(listen));
        }

        ListenOptions? listenOptions = null;
        var options = new KestrelServerOptions { AddServerHeader = false };
        // Probes and scrapers speak HTTP/1.1 and send no body; a cap on connections bounds what a
        // client that opens many of them can make the daemon hold.
        options.Limits.MaxConcurrentConnections = 64;
        options.Limits.MaxRequestBodySize = 0;
        options.Listen(endPoint, l =>
        {
            l.Protocols = HttpProtocols.Http1;
            listenOptions = l;
        });
        var server = new KestrelServer(
            Options.Create(options),
            new SocketTransportFactory(Options.Create(new SocketTransportOptions()), NullLoggerFactory.Instance),
            NullLoggerFactory.Instance);
        try
        {
            await server.StartAsync(new Application(readiness, metrics), ct).ConfigureAwait(false);
        }
        catch
        {
            server.Dispose();
            throw;
        }
        // Kestrel writes the endpoint it bound back into the listen options: the real port for :0.
        return new StatusEndpoints(server, listenOptions!.IPEndPoint!);
    }

    public async ValueTask DisposeAsync()
    {
        using (var grace = new CancellationTokenSource(StopGrace))
        {
            await _server.StopAsync(grace.Token).ConfigureAwait(false);
        }
        _server.Dispose();
    }

    /// <summary>The answer to one request: status, content type and body.</summary>
    internal static (int Status, string ContentType, string Body) Answer(string method, string path, Func<Readiness> readiness, PrometheusText metrics)
    {
        const string Text = "text/plain; charset=utf-8";
        if (path is not ("/healthz" or "/readyz" or "/metrics"))
        {
            return (StatusCodes.Status404NotFound, Text, "not found\n");
        }
        if (method is not ("GET" or "HEAD"))
        {
            return (StatusCodes.Status405MethodNotAllowed, Text, "method not allowed; use GET or HEAD\n");
        }
        switch (path)
        {
            case "/healthz":
                return (StatusCodes.Status200OK, Text, "ok\n");
            case "/readyz":
                var state = readiness();
                return state.Ready ? (StatusCodes.Status200OK, Text, "ready\n") : (StatusCodes.Status503ServiceUnavailable, Text, OneLine(state.Reason) + "\n");
            default:
                return (StatusCodes.Status200OK, PrometheusText.ContentType, metrics.Scrape());
        }
    }

    private static string OneLine(string text) => text.Length == 0 ? "not ready" : text.ReplaceLineEndings(" ");

    /// <summary>Kestrel's request callback, on the raw feature collection: no HttpContext is built.</summary>
    private sealed class Application(Func<Readiness> readiness, PrometheusText metrics) : IHttpApplication<IFeatureCollection>
    {
        public IFeatureCollection CreateContext(IFeatureCollection contextFeatures) => contextFeatures;

        public void DisposeContext(IFeatureCollection context, Exception? exception)
        {
        }

        public async Task ProcessRequestAsync(IFeatureCollection context)
        {
            var request = context.GetRequiredFeature<IHttpRequestFeature>();
            var response = context.GetRequiredFeature<IHttpResponseFeature>();
            var (status, contentType, text) = Answer(request.Method, request.Path, readiness, metrics);
            var body = Encoding.UTF8.GetBytes(text);
            response.StatusCode = status;
            response.Headers.ContentType = contentType;
            response.Headers.ContentLength = body.Length;
            // Probes and scrapes must see the state now, never a copy a proxy kept.
            response.Headers.CacheControl = "no-store";
            if (status == StatusCodes.Status405MethodNotAllowed)
            {
                response.Headers.Allow = "GET, HEAD";
            }
            if (request.Method != "HEAD")
            {
                await context.GetRequiredFeature<IHttpResponseBodyFeature>().Writer.WriteAsync(body).ConfigureAwait(false);
            }
        }
    }
}
