using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace NodeAgent.Tests.Support;

/// <summary>
/// A throw-away CA with a server certificate for <c>127.0.0.1</c> (key attached, for Kestrel)
/// and client certificates on demand. ECDSA P-256, in memory only.
/// </summary>
public sealed class ApiPki : IDisposable
{
    private readonly ECDsa _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public ApiPki(string name = "fake API server CA")
    {
        var now = DateTimeOffset.UtcNow;
        var request = new CertificateRequest($"CN={name} {Guid.NewGuid():N}", _caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        // Outlives its leaves: a leaf issued later asks for a day from then, and X.509 refuses a
        // leaf that ends after its issuer (to the second).
        Ca = request.CreateSelfSigned(now.AddHours(-1), now.AddDays(2));
        Server = Issue("127.0.0.1", serverAuth: true);
    }

    public X509Certificate2 Ca { get; }

    public X509Certificate2 Server { get; }

    public string CaPem => Ca.ExportCertificatePem() + "\n";

    /// <summary>A leaf signed by this CA, with its private key attached.</summary>
    public X509Certificate2 Issue(string commonName, bool serverAuth)
    {
        var now = DateTimeOffset.UtcNow;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        if (serverAuth)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build(true));
        }
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(serverAuth ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Ca, true, false));
        using var signed = request.Create(Ca, now.AddHours(-1), now.AddDays(1), RandomNumberGenerator.GetBytes(16));
        return signed.CopyWithPrivateKey(key);
    }

    /// <summary>True when <paramref name="certificate"/> chains to this CA and nothing else.</summary>
    public bool Issued(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    public static string CertificatePem(X509Certificate2 certificate) => certificate.ExportCertificatePem() + "\n";

    public static string KeyPem(X509Certificate2 certificate) =>
        (certificate.GetECDsaPrivateKey() ?? throw new InvalidOperationException("no key")).ExportPkcs8PrivateKeyPem() + "\n";

    public void Dispose()
    {
        Ca.Dispose();
        Server.Dispose();
        _caKey.Dispose();
    }
}

/// <summary>
/// An in-process Kestrel API server on <c>https://127.0.0.1:&lt;free port&gt;</c> that speaks
/// list and watch with the real Kubernetes JSON shapes: a List with
/// <c>metadata.resourceVersion</c>, a watch stream of newline-delimited events (bookmarks
/// included) that the test feeds, and Status bodies for failures. It checks the bearer token
/// or the client certificate, and records every request so tests can check the query.
/// </summary>
public sealed class FakeApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, FakeResource> _collections = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<int> _failures = new();

    private FakeApiServer(WebApplication app, ApiPki pki)
    {
        _app = app;
        Pki = pki;
    }

    public ApiPki Pki { get; }

    public Uri Url { get; private set; } = null!;

    /// <summary>When set, requests must carry <c>Authorization: Bearer</c> this token (else 401).</summary>
    public string? RequiredToken { get; set; }

    /// <summary>When set, requests must come with a client certificate signed by <see cref="Pki"/> (else 401).</summary>
    public bool RequireClientCertificate { get; set; }

    /// <summary>Every request's path and query, in order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>The subject of the client certificate of the last request that had one.</summary>
    public string? LastClientSubject { get; private set; }

    /// <summary>Watches that have started and are waiting for events.</summary>
    public int OpenWatches => _collections.Values.Sum(c => c.OpenWatches);

    public static async Task<FakeApiServer> StartAsync(ApiPki? pki = null)
    {
        pki ??= new ApiPki();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(https =>
        {
            https.ServerCertificate = pki.Server;
            https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
            // Whether a client certificate is good enough is the request handler's decision.
            https.AllowAnyClientCertificate();
        })));
        var app = builder.Build();
        var server = new FakeApiServer(app, pki);
        app.Run(server.HandleAsync);
        await app.StartAsync().ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server.Url = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
        return server;
    }

    /// <summary>The collection at <paramref name="path"/> (e.g. <c>/apis/config.openshift.io/v1/imagedigestmirrorsets</c>).</summary>
    public FakeResource Serve(string path, string listKind, string apiVersion) =>
        _collections.GetOrAdd(path, _ => new FakeResource(listKind, apiVersion));

    /// <summary>The next request is answered with this HTTP status and a matching Status body.</summary>
    public void FailNext(int statusCode) => _failures.Enqueue(statusCode);

    public async ValueTask DisposeAsync()
    {
        foreach (var collection in _collections.Values)
        {
            collection.Close();
        }
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    public static JsonObject StatusBody(int code) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = code == 410 ? "too old resource version: 1 (5)" : $"fake failure {code}",
        ["reason"] = code switch { 401 => "Unauthorized", 404 => "NotFound", 410 => "Expired", _ => "InternalError" },
        ["code"] = code,
    };

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        Requests.Enqueue(request.Path + request.QueryString);
        if (!await AuthorisedAsync(context).ConfigureAwait(false))
        {
            await WriteStatusAsync(context, 401).ConfigureAwait(false);
            return;
        }
        if (_failures.TryDequeue(out var failure))
        {
            await WriteStatusAsync(context, failure).ConfigureAwait(false);
            return;
        }
        var path = request.Path.Value ?? "";
        if (_collections.TryGetValue(path, out var collection))
        {
            if (request.Query["watch"] is ["true" or "1"])
            {
                await collection.WatchAsync(context).ConfigureAwait(false);
            }
            else
            {
                await WriteJsonAsync(context, 200, collection.List()).ConfigureAwait(false);
            }
            return;
        }
        var slash = path.LastIndexOf('/');
        if (slash > 0 && _collections.TryGetValue(path[..slash], out var parent) && parent.Get(path[(slash + 1)..]) is { } item)
        {
            await WriteJsonAsync(context, 200, item).ConfigureAwait(false);
            return;
        }
        await WriteStatusAsync(context, 404).ConfigureAwait(false);
    }

    private async Task<bool> AuthorisedAsync(HttpContext context)
    {
        var certificate = await context.Connection.GetClientCertificateAsync().ConfigureAwait(false);
        if (certificate is not null)
        {
            LastClientSubject = certificate.Subject;
        }
        if (RequireClientCertificate && (certificate is null || !Pki.Issued(certificate)))
        {
            return false;
        }
        return RequiredToken is null || context.Request.Headers.Authorization == $"Bearer {RequiredToken}";
    }

    private static Task WriteStatusAsync(HttpContext context, int code) => WriteJsonAsync(context, code, StatusBody(code));

    private static async Task WriteJsonAsync(HttpContext context, int code, JsonNode body)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString()).ConfigureAwait(false);
    }

    /// <summary>One collection: its current items and a feed of watch events.</summary>
    public sealed class FakeResource(string listKind, string apiVersion)
    {
        private readonly object _lock = new();
        private readonly List<JsonObject> _items = [];
        private readonly Channel<string?> _events = Channel.CreateUnbounded<string?>();
        private int _openWatches;

        public string ResourceVersion { get; set; } = "1";

        public int OpenWatches => Volatile.Read(ref _openWatches);

        public void Add(JsonObject item)
        {
            lock (_lock)
            {
                _items.Add(item);
            }
        }

        /// <summary>Queues a watch event line: <c>{"type":TYPE,"object":OBJECT}</c>.</summary>
        public void Event(string type, JsonObject obj) =>
            _events.Writer.TryWrite(new JsonObject { ["type"] = type, ["object"] = obj }.ToJsonString());

        public void Bookmark(string resourceVersion) => Event("BOOKMARK", new JsonObject
        {
            ["kind"] = listKind.EndsWith("List", StringComparison.Ordinal) ? listKind[..^4] : listKind,
            ["apiVersion"] = apiVersion,
            ["metadata"] = new JsonObject { ["resourceVersion"] = resourceVersion },
        });

        public void Error(int code) => Event("ERROR", StatusBody(code));

        /// <summary>Ends the current watch stream after the events queued so far, as timeoutSeconds would.</summary>
        public void EndWatch() => _events.Writer.TryWrite(null);

        internal void Close() => _events.Writer.TryComplete();

        internal JsonObject List()
        {
            lock (_lock)
            {
                return new JsonObject
                {
                    ["kind"] = listKind,
                    ["apiVersion"] = apiVersion,
                    ["metadata"] = new JsonObject { ["resourceVersion"] = ResourceVersion },
                    ["items"] = new JsonArray(_items.Select(i => (JsonNode)i.DeepClone()).ToArray()),
                };
            }
        }

        internal JsonObject? Get(string name)
        {
            lock (_lock)
            {
                return _items.FirstOrDefault(i => i["metadata"]?["name"]?.GetValue<string>() == name)?.DeepClone().AsObject();
            }
        }

        internal async Task WatchAsync(HttpContext context)
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            await context.Response.StartAsync(context.RequestAborted).ConfigureAwait(false);
            await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            Interlocked.Increment(ref _openWatches);
            try
            {
                var reader = _events.Reader;
                while (await reader.WaitToReadAsync(context.RequestAborted).ConfigureAwait(false))
                {
                    while (reader.TryRead(out var line))
                    {
                        if (line is null)
                        {
                            return;
                        }
                        await context.Response.WriteAsync(line + "\n", context.RequestAborted).ConfigureAwait(false);
                        await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // The client went away: that is how a watch ends from its side.
            }
            finally
            {
                Interlocked.Decrement(ref _openWatches);
            }
        }
    }
}
