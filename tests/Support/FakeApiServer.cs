using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
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
/// An in-process Kestrel API server on <c>https://127.0.0.1:&lt;port&gt;</c> that keeps objects
/// and speaks list and watch with the real Kubernetes JSON shapes and semantics: one
/// server-wide resourceVersion counter, lists that report it, watches that replay a
/// per-collection history after the requested resourceVersion and then stream changes,
/// 410 Expired after compaction, bookmarks, field selectors on name and namespace, and Status
/// bodies for failures. Tests change objects with <see cref="FakeResource.Put"/> and
/// <see cref="FakeResource.Delete"/> and inject faults: failing requests, dropped watches,
/// a removed resource type, a server that goes away and comes back on the same port. It checks
/// the bearer token or the client certificate, and records every request so tests can check
/// the query.
/// </summary>
/// <remarks>
/// Beside the stored objects there is a scripted feed (<see cref="FakeResource.Event"/>,
/// <see cref="FakeResource.Bookmark"/>, <see cref="FakeResource.Error"/>,
/// <see cref="FakeResource.EndWatch"/>) for tests that need exact, even impossible, streams:
/// its lines go to every open watch, or wait for the next watch when none is open.
/// <para>
/// Simplified on purpose: a list always answers from the latest state (its resourceVersion,
/// limit and continue parameters are ignored), label selectors are ignored, and a watch from a
/// resourceVersion ahead of the server is taken as from now, where the real one would wait and
/// then answer 504. Objects are stored as given apart from resourceVersion and namespace: no
/// uid, generation or timestamps.
/// </para>
/// </remarks>
public sealed class FakeApiServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, FakeResource> _collections = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<int> _failures = new();
    private WebApplication? _app;
    private Socket? _portHeld;
    private long _resourceVersion = 1;
    private int _failAll;

    private FakeApiServer(ApiPki pki)
    {
        Pki = pki;
    }

    public ApiPki Pki { get; }

    /// <summary>The server's address; the same across <see cref="GoAwayAsync"/> and <see cref="ComeBackAsync"/>.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>When set, requests must carry <c>Authorization: Bearer</c> this token (else 401).</summary>
    public string? RequiredToken { get; set; }

    /// <summary>When set, requests must come with a client certificate signed by <see cref="Pki"/> (else 401).</summary>
    public bool RequireClientCertificate { get; set; }

    /// <summary>When set, every write (POST, PATCH) is answered 403 Forbidden, as without the RBAC for it.</summary>
    public bool ForbidWrites { get; set; }

    /// <summary>Every request's path and query, in order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>The subject of the client certificate of the last request that had one.</summary>
    public string? LastClientSubject { get; private set; }

    /// <summary>Watches that have started and are waiting for events, over every collection.</summary>
    public int OpenWatches => _collections.Values.Sum(c => c.OpenWatches);

    /// <summary>
    /// The latest resourceVersion handed out, shared by every collection as etcd's revision is.
    /// A fresh server is at 1; every <see cref="FakeResource.Put"/> and
    /// <see cref="FakeResource.Delete"/> takes the next one.
    /// </summary>
    public long ResourceVersion => Interlocked.Read(ref _resourceVersion);

    public static async Task<FakeApiServer> StartAsync(ApiPki? pki = null)
    {
        pki ??= new ApiPki();
        var server = new FakeApiServer(pki);
        await server.ListenAsync(0).ConfigureAwait(false);
        return server;
    }

    /// <summary>A client of this server that trusts its CA (and nothing else) and sends <paramref name="token"/> if given.</summary>
    public NodeAgent.Cluster.KubeClient CreateClient(string? token = null) => new(new NodeAgent.Cluster.KubeConfig
    {
        Source = "test",
        Server = Url,
        CertificateAuthority = System.Text.Encoding.ASCII.GetBytes(Pki.CaPem),
        Token = token,
    });

    /// <summary>
    /// The collection at <paramref name="path"/> (e.g. <c>/apis/config.openshift.io/v1/imagedigestmirrorsets</c>);
    /// the one already served there if any. A path with <c>/namespaces/&lt;ns&gt;/</c> holds objects of that namespace.
    /// </summary>
    public FakeResource Serve(string path, string listKind, string apiVersion) =>
        _collections.GetOrAdd(path, p => new FakeResource(this, p, listKind, apiVersion));

    /// <summary>
    /// Stops serving <paramref name="path"/>, as when its CustomResourceDefinition is deleted:
    /// open watches end cleanly and every later request there is 404 NotFound. The objects go
    /// with it; a later <see cref="Serve"/> starts an empty collection, and the old
    /// <see cref="FakeResource"/> refuses changes.
    /// </summary>
    public void Unserve(string path)
    {
        if (_collections.TryRemove(path, out var collection))
        {
            collection.Unserve();
        }
    }

    /// <summary>The next request is answered with this HTTP status and a matching Status body.</summary>
    public void FailNext(int statusCode) => _failures.Enqueue(statusCode);

    /// <summary>
    /// From now on every request, authenticated or not, is answered with <paramref name="statusCode"/>
    /// and a matching Status body, as from an API server that is down behind its load balancer;
    /// open watches are cut at once. <c>null</c> serves normally again.
    /// </summary>
    public void FailAll(int? statusCode)
    {
        if (statusCode is < 400 or > 599)
        {
            throw new ArgumentOutOfRangeException(nameof(statusCode), statusCode, "a failure is a 4xx or 5xx status");
        }
        Volatile.Write(ref _failAll, statusCode ?? 0);
        if (statusCode is not null)
        {
            foreach (var collection in _collections.Values)
            {
                collection.DropWatches();
            }
        }
    }

    /// <summary>
    /// Stops listening, as a restarting API server or a partition does: open connections are cut
    /// and new ones refused until <see cref="ComeBackAsync"/>. The stored objects stay, and may
    /// be changed meanwhile.
    /// </summary>
    public async Task GoAwayAsync()
    {
        var app = _app ?? throw new InvalidOperationException("the fake API server is already away");
        _app = null;
        foreach (var collection in _collections.Values)
        {
            collection.DropWatches();
        }
        await StopAsync(app).ConfigureAwait(false);
        _portHeld = HoldPort(Url.Port);
    }

    /// <summary>Listens again on the same port with the same certificate, after <see cref="GoAwayAsync"/>.</summary>
    public async Task ComeBackAsync()
    {
        if (_app is not null)
        {
            throw new InvalidOperationException("the fake API server is already listening");
        }
        _portHeld?.Dispose();
        _portHeld = null;
        await ListenAsync(Url.Port).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        _portHeld?.Dispose();
        _portHeld = null;
        foreach (var collection in _collections.Values)
        {
            collection.EndWatches();
        }
        if (_app is { } app)
        {
            _app = null;
            await StopAsync(app).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// An object as the API server returns it before it is stored: apiVersion, kind,
    /// metadata.name (and namespace), and the spec when given.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "Kubernetes calls them objects; FakeApiServer.Object(...) reads as what it builds.")]
    public static JsonObject Object(string apiVersion, string kind, string name, JsonObject? spec = null, string? ns = null)
    {
        var metadata = new JsonObject { ["name"] = name };
        if (ns is not null)
        {
            metadata["namespace"] = ns;
        }
        var obj = new JsonObject { ["apiVersion"] = apiVersion, ["kind"] = kind, ["metadata"] = metadata };
        if (spec is not null)
        {
            obj["spec"] = spec;
        }
        return obj;
    }

    public static JsonObject StatusBody(int code, string? message = null) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = message ?? code switch
        {
            404 => "the server could not find the requested resource",
            410 => "too old resource version",
            503 => "the server is currently unable to handle the request",
            _ => $"fake failure {code}",
        },
        ["reason"] = code switch
        {
            400 => "BadRequest",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "NotFound",
            410 => "Expired",
            429 => "TooManyRequests",
            503 => "ServiceUnavailable",
            504 => "Timeout",
            _ => "InternalError",
        },
        ["code"] = code,
    };

    internal long NextResourceVersion() => Interlocked.Increment(ref _resourceVersion);

    internal void AdvanceResourceVersion(long to)
    {
        var current = Interlocked.Read(ref _resourceVersion);
        while (current < to)
        {
            var seen = Interlocked.CompareExchange(ref _resourceVersion, to, current);
            if (seen == current)
            {
                return;
            }
            current = seen;
        }
        if (current > to)
        {
            throw new ArgumentOutOfRangeException(nameof(to), to, $"the resourceVersion is already {current} and never goes back");
        }
    }

    /// <summary>
    /// Binds the port without listening while the server is away: connecting is refused, as it
    /// should be, and another test's server asking for any free port cannot be given this one.
    /// </summary>
    private static Socket? HoldPort(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            // .NET sets SO_REUSEADDR when it binds, and Linux lets another socket that has it
            // listen on a port whose other sockets all have it and none listens.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, false);
            return socket;
        }
        catch (SocketException)
        {
            // Not held, only less safe: coming back still works unless the port was taken meanwhile.
            socket.Dispose();
            return null;
        }
    }

    private async Task ListenAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.UseHttps(https =>
        {
            https.ServerCertificate = Pki.Server;
            https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
            // Whether a client certificate is good enough is the request handler's decision.
            https.AllowAnyClientCertificate();
        })));
        var app = builder.Build();
        app.Run(HandleAsync);
        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        Url = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
        _app = app;
    }

    /// <summary>Stops at once: Kestrel aborts whatever connection is still open instead of waiting for it.</summary>
    private static async Task StopAsync(WebApplication app)
    {
        using var now = new CancellationTokenSource();
        await now.CancelAsync().ConfigureAwait(false);
        try
        {
            await app.StopAsync(now.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Expected: the token was cancelled so that nothing is waited for.
        }
        await app.DisposeAsync().ConfigureAwait(false);
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        Requests.Enqueue(request.Path + request.QueryString);
        if (Volatile.Read(ref _failAll) is var failAll and not 0)
        {
            await WriteStatusAsync(context, failAll).ConfigureAwait(false);
            return;
        }
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
        if (!HttpMethods.IsGet(request.Method))
        {
            await WriteAsync(context, path).ConfigureAwait(false);
            return;
        }
        if (_collections.TryGetValue(path, out var collection))
        {
            if (request.Query["watch"] is ["true" or "1"])
            {
                await collection.WatchAsync(context).ConfigureAwait(false);
            }
            else
            {
                await collection.ListAsync(context).ConfigureAwait(false);
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

    // POST to a collection creates (metadata.generateName is honoured); PATCH with a JSON merge
    // patch (RFC 7386) changes one stored object. Both answer with the stored object.
    private async Task WriteAsync(HttpContext context, string path)
    {
        if (ForbidWrites)
        {
            await WriteStatusAsync(context, 403, "forbidden: the service account may not write").ConfigureAwait(false);
            return;
        }
        var body = await JsonNode.ParseAsync(context.Request.Body).ConfigureAwait(false) as JsonObject;
        if (body is null)
        {
            await WriteStatusAsync(context, 400, "the body is not a JSON object").ConfigureAwait(false);
            return;
        }
        if (HttpMethods.IsPost(context.Request.Method) && _collections.TryGetValue(path, out var collection))
        {
            if (body["metadata"] is JsonObject metadata && metadata["name"] is null && metadata["generateName"]?.GetValue<string>() is { } prefix)
            {
                metadata["name"] = prefix + Guid.NewGuid().ToString("N")[..5];
            }
            await WriteJsonAsync(context, 201, collection.Put(body)).ConfigureAwait(false);
            return;
        }
        var slash = path.LastIndexOf('/');
        if (HttpMethods.IsPatch(context.Request.Method) && context.Request.ContentType?.StartsWith("application/merge-patch+json", StringComparison.Ordinal) == true
            && slash > 0 && _collections.TryGetValue(path[..slash], out var parent) && parent.Get(path[(slash + 1)..]) is { } current)
        {
            await WriteJsonAsync(context, 200, parent.Put(MergePatch(current, body).AsObject())).ConfigureAwait(false);
            return;
        }
        await WriteStatusAsync(context, 404).ConfigureAwait(false);
    }

    /// <summary>RFC 7386: objects merge key by key, null removes, anything else replaces.</summary>
    public static JsonNode MergePatch(JsonNode? target, JsonNode patch)
    {
        if (patch is not JsonObject changes)
        {
            return patch.DeepClone();
        }
        var result = target is JsonObject existing ? existing.DeepClone().AsObject() : new JsonObject();
        foreach (var (key, value) in changes)
        {
            if (value is null)
            {
                result.Remove(key);
            }
            else
            {
                result[key] = MergePatch(result[key], value);
            }
        }
        return result;
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

    private static Task WriteStatusAsync(HttpContext context, int code, string? message = null) =>
        WriteJsonAsync(context, code, StatusBody(code, message));

    private static async Task WriteJsonAsync(HttpContext context, int code, JsonNode body)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString()).ConfigureAwait(false);
    }

    /// <summary>
    /// One collection: its objects by name, the history of their changes for watches to replay,
    /// and the open watches, each with its own subscription.
    /// </summary>
    public sealed class FakeResource
    {
        private readonly FakeApiServer _server;
        private readonly string _path;
        private readonly string _apiVersion;
        private readonly string _itemKind;
        private readonly string? _namespace;
        private readonly Lock _lock = new();
        private readonly SortedDictionary<string, JsonObject> _items = new(StringComparer.Ordinal);
        private readonly List<Change> _history = [];
        private readonly List<Watcher> _watchers = [];
        private readonly Queue<string?> _script = new();
        private long _compacted;
        private bool _unserved;
        private int _openWatches;
        private int _listCount;
        private int _watchCount;

        internal FakeResource(FakeApiServer server, string path, string listKind, string apiVersion)
        {
            _server = server;
            _path = path;
            _apiVersion = apiVersion;
            _itemKind = listKind.EndsWith("List", StringComparison.Ordinal) ? listKind[..^4] : listKind;
            _namespace = NamespaceOf(path);
            // A collection that appears later (a CRD created) has no history from before it existed.
            _compacted = server.ResourceVersion;
        }

        /// <summary>
        /// The server-wide resourceVersion, as a list reports it. Setting it moves the server's
        /// counter forward to that value, as if other collections had changed; never back.
        /// </summary>
        public string ResourceVersion
        {
            get => _server.ResourceVersion.ToString(CultureInfo.InvariantCulture);
            set => _server.AdvanceResourceVersion(long.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture));
        }

        /// <summary>Watches that have started and are waiting for events.</summary>
        public int OpenWatches => Volatile.Read(ref _openWatches);

        /// <summary>List requests this collection answered (failed and refused requests never reach it).</summary>
        public int ListCount => Volatile.Read(ref _listCount);

        /// <summary>Watch requests this collection answered, including those it answered with 410 or 400.</summary>
        public int WatchCount => Volatile.Read(ref _watchCount);

        /// <summary>
        /// Watches that start while this is set get their response headers and then nothing more:
        /// no events, no end at timeoutSeconds, as through a connection whose far end vanished
        /// without a word. <see cref="DropWatches"/> still cuts them.
        /// </summary>
        public bool StallWatches { get; set; }

        /// <summary>Watches that start while this is set are answered 200 and ended at once, empty, as a misbehaving proxy might.</summary>
        public bool EndWatchesAtOnce { get; set; }

        /// <summary>
        /// Adds or replaces the object named by <c>metadata.name</c>: stamps the next server-wide
        /// <c>metadata.resourceVersion</c> (replacing any the item had) and, in a namespaced
        /// collection, <c>metadata.namespace</c>; sends ADDED or MODIFIED to every open watch whose
        /// field selector matches. Returns a copy of what is stored.
        /// </summary>
        public JsonObject Put(JsonObject item)
        {
            ArgumentNullException.ThrowIfNull(item);
            var stored = item.DeepClone().AsObject();
            var name = NameOf(stored);
            if (stored["metadata"] is not JsonObject metadata)
            {
                throw new ArgumentException("the object has no metadata", nameof(item));
            }
            if (_namespace is not null)
            {
                if (metadata["namespace"]?.GetValue<string>() is { } given && given != _namespace)
                {
                    throw new ArgumentException($"the object is in namespace \"{given}\" but the collection {_path} is in \"{_namespace}\"", nameof(item));
                }
                metadata["namespace"] = _namespace;
            }
            lock (_lock)
            {
                ThrowIfUnserved();
                var resourceVersion = _server.NextResourceVersion();
                metadata["resourceVersion"] = resourceVersion.ToString(CultureInfo.InvariantCulture);
                var type = _items.ContainsKey(name) ? "MODIFIED" : "ADDED";
                _items[name] = stored;
                Record(resourceVersion, type, name, stored);
                return stored.DeepClone().AsObject();
            }
        }

        /// <summary>Removes the object; open watches that match get DELETED with its last state at a new resourceVersion.</summary>
        public void Delete(string name)
        {
            ArgumentException.ThrowIfNullOrEmpty(name);
            lock (_lock)
            {
                ThrowIfUnserved();
                if (!_items.Remove(name, out var last))
                {
                    throw new KeyNotFoundException($"{_path} has no object named \"{name}\"");
                }
                var resourceVersion = _server.NextResourceVersion();
                last["metadata"]!["resourceVersion"] = resourceVersion.ToString(CultureInfo.InvariantCulture);
                Record(resourceVersion, "DELETED", name, last);
            }
        }

        /// <summary>Forgets the history up to now: a watch from an older resourceVersion gets 410 Expired.</summary>
        public void Compact()
        {
            lock (_lock)
            {
                _history.Clear();
                _compacted = _server.ResourceVersion;
            }
        }

        /// <summary>
        /// Cuts every open watch connection of this collection mid-stream (the client sees the
        /// response end prematurely), as a load balancer does. The cut happens on the watches'
        /// own threads a moment later; wait for <see cref="OpenWatches"/> when that matters.
        /// </summary>
        public void DropWatches()
        {
            lock (_lock)
            {
                foreach (var watcher in _watchers)
                {
                    watcher.Dropped = true;
                    watcher.Lines.Writer.TryWrite(null);
                }
            }
        }

        /// <summary>Sends a BOOKMARK at the current resourceVersion to every open watch that allowed bookmarks.</summary>
        public void SendBookmarks()
        {
            lock (_lock)
            {
                var line = EventLine("BOOKMARK", BookmarkObject(_server.ResourceVersion.ToString(CultureInfo.InvariantCulture)));
                foreach (var watcher in _watchers.Where(w => w.Live && w.Bookmarks))
                {
                    watcher.Lines.Writer.TryWrite(line);
                }
            }
        }

        /// <summary>Stores an item exactly as given, resourceVersion included, without an event: to seed a list.</summary>
        public void Add(JsonObject item)
        {
            ArgumentNullException.ThrowIfNull(item);
            lock (_lock)
            {
                _items[NameOf(item)] = item.DeepClone().AsObject();
            }
        }

        /// <summary>Scripts a watch event line: <c>{"type":TYPE,"object":OBJECT}</c>, stored objects untouched.</summary>
        public void Event(string type, JsonObject obj) => Script(EventLine(type, obj));

        /// <summary>Scripts a BOOKMARK at <paramref name="resourceVersion"/>.</summary>
        public void Bookmark(string resourceVersion) => Event("BOOKMARK", BookmarkObject(resourceVersion));

        /// <summary>Scripts an ERROR event carrying a Status with <paramref name="code"/>.</summary>
        public void Error(int code) => Event("ERROR", StatusBody(code));

        /// <summary>Ends the watch stream after the lines scripted so far, as timeoutSeconds would.</summary>
        public void EndWatch() => Script(null);

        internal void Unserve()
        {
            lock (_lock)
            {
                _unserved = true;
            }
            EndWatches();
        }

        /// <summary>Ends every open watch cleanly after what is queued for it.</summary>
        internal void EndWatches()
        {
            lock (_lock)
            {
                foreach (var watcher in _watchers)
                {
                    watcher.End();
                }
            }
        }

        /// <summary>A copy of the stored object, or null.</summary>
        public JsonObject? Stored(string name) => Get(name);

        /// <summary>Copies of every stored object, in the order of their resourceVersions.</summary>
        public IReadOnlyList<JsonObject> All()
        {
            lock (_lock)
            {
                return [.. _items.Values.OrderBy(i => long.Parse(i["metadata"]!["resourceVersion"]!.GetValue<string>(), CultureInfo.InvariantCulture)).Select(i => i.DeepClone().AsObject())];
            }
        }

        internal JsonObject? Get(string name)
        {
            lock (_lock)
            {
                return _items.TryGetValue(name, out var item) ? item.DeepClone().AsObject() : null;
            }
        }

        internal async Task ListAsync(HttpContext context)
        {
            Interlocked.Increment(ref _listCount);
            if (!FieldSelector.TryParse(context.Request.Query["fieldSelector"].ToString(), out var selector, out var problem))
            {
                await WriteStatusAsync(context, 400, problem).ConfigureAwait(false);
                return;
            }
            JsonObject? list = null;
            lock (_lock)
            {
                if (!_unserved)
                {
                    list = new JsonObject
                    {
                        ["kind"] = _itemKind + "List",
                        ["apiVersion"] = _apiVersion,
                        ["metadata"] = new JsonObject { ["resourceVersion"] = ResourceVersion },
                        ["items"] = new JsonArray(_items.Values.Where(selector.Matches).Select(i => (JsonNode)i.DeepClone()).ToArray()),
                    };
                }
            }
            await (list is null ? WriteStatusAsync(context, 404) : WriteJsonAsync(context, 200, list)).ConfigureAwait(false);
        }

        /// <summary>
        /// A watch: resourceVersion "" or "0" starts from now with an ADDED for every current
        /// object that matches, as the real server does when it has no version to start from; a
        /// number N replays the stored changes after N, or answers 410 Expired in the stream if N
        /// is older than the last <see cref="Compact"/> (or than the collection). Then it streams
        /// changes until timeoutSeconds, the client, or the test ends it.
        /// </summary>
        internal async Task WatchAsync(HttpContext context)
        {
            Interlocked.Increment(ref _watchCount);
            var query = context.Request.Query;
            if (!FieldSelector.TryParse(query["fieldSelector"].ToString(), out var selector, out var problem))
            {
                await WriteStatusAsync(context, 400, problem).ConfigureAwait(false);
                return;
            }
            long? from = null;
            if (query["resourceVersion"].ToString() is not ("" or "0") and var text)
            {
                if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
                {
                    await WriteStatusAsync(context, 400, $"invalid resource version \"{text}\"").ConfigureAwait(false);
                    return;
                }
                from = parsed;
            }
            var timeoutSeconds = 0;
            if (query["timeoutSeconds"].ToString() is { Length: > 0 } timeoutText
                && !int.TryParse(timeoutText, NumberStyles.None, CultureInfo.InvariantCulture, out timeoutSeconds))
            {
                await WriteStatusAsync(context, 400, $"invalid timeoutSeconds \"{timeoutText}\"").ConfigureAwait(false);
                return;
            }
            var watcher = new Watcher(selector, query["allowWatchBookmarks"] is ["true"], StallWatches);
            string? expired = null;
            var unserved = false;
            var endAtOnce = false;
            lock (_lock)
            {
                if (_unserved)
                {
                    unserved = true;
                }
                else if (EndWatchesAtOnce)
                {
                    endAtOnce = true;
                }
                else if (from < _compacted)
                {
                    expired = $"too old resource version: {from} ({_compacted})";
                }
                else
                {
                    Subscribe(watcher, from);
                }
            }
            if (unserved)
            {
                await WriteStatusAsync(context, 404).ConfigureAwait(false);
                return;
            }
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            if (endAtOnce)
            {
                return;
            }
            if (expired is not null)
            {
                // The real server has already said 200 when it finds out, so 410 comes as an event.
                await context.Response.WriteAsync(EventLine("ERROR", StatusBody(410, expired)) + "\n").ConfigureAwait(false);
                return;
            }
            await StreamAsync(context, watcher, watcher.Stalled ? 0 : timeoutSeconds).ConfigureAwait(false);
        }

        private async Task StreamAsync(HttpContext context, Watcher watcher, int timeoutSeconds)
        {
            var counted = false;
            using var timeout = new CancellationTokenSource();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, timeout.Token);
            try
            {
                await context.Response.StartAsync(stop.Token).ConfigureAwait(false);
                await context.Response.Body.FlushAsync(stop.Token).ConfigureAwait(false);
                Interlocked.Increment(ref _openWatches);
                counted = true;
                if (timeoutSeconds > 0)
                {
                    timeout.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds));
                }
                var reader = watcher.Lines.Reader;
                while (await reader.WaitToReadAsync(stop.Token).ConfigureAwait(false))
                {
                    while (reader.TryRead(out var line))
                    {
                        if (watcher.Dropped)
                        {
                            // Abort from the request's own thread: Kestrel reuses a finished context.
                            context.Abort();
                            return;
                        }
                        if (line is not null)
                        {
                            // Not cut short by the timeout: the stream ends between lines, never inside one.
                            await context.Response.WriteAsync(line + "\n", context.RequestAborted).ConfigureAwait(false);
                            await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
                        }
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException)
            {
                // timeoutSeconds passed (the response ends cleanly), or the client went away.
            }
            finally
            {
                lock (_lock)
                {
                    _watchers.Remove(watcher);
                }
                if (counted)
                {
                    Interlocked.Decrement(ref _openWatches);
                }
            }
        }

        /// <summary>Queues what the new watch must see first, then makes it a subscriber; under the lock, so nothing falls in between.</summary>
        private void Subscribe(Watcher watcher, long? from)
        {
            if (!watcher.Stalled)
            {
                if (from is { } after)
                {
                    foreach (var change in _history.Where(c => c.ResourceVersion > after && watcher.Selector.Matches(c.Name, c.Namespace)))
                    {
                        watcher.Lines.Writer.TryWrite(change.Line);
                    }
                }
                else
                {
                    foreach (var item in _items.Values.Where(watcher.Selector.Matches))
                    {
                        watcher.Lines.Writer.TryWrite(EventLine("ADDED", item));
                    }
                }
                if (!_watchers.Any(w => w.Live))
                {
                    while (_script.TryDequeue(out var line))
                    {
                        if (line is null)
                        {
                            watcher.End();
                            break;
                        }
                        watcher.Lines.Writer.TryWrite(line);
                    }
                }
            }
            _watchers.Add(watcher);
        }

        private void Record(long resourceVersion, string type, string name, JsonObject obj)
        {
            var ns = obj["metadata"]?["namespace"]?.GetValue<string>();
            var change = new Change(resourceVersion, name, ns, EventLine(type, obj));
            _history.Add(change);
            foreach (var watcher in _watchers.Where(w => w.Live && w.Selector.Matches(name, ns)))
            {
                watcher.Lines.Writer.TryWrite(change.Line);
            }
        }

        private void Script(string? line)
        {
            lock (_lock)
            {
                var live = _watchers.Where(w => w.Live).ToList();
                if (live.Count == 0)
                {
                    _script.Enqueue(line);
                    return;
                }
                foreach (var watcher in live)
                {
                    if (line is null)
                    {
                        watcher.End();
                    }
                    else
                    {
                        watcher.Lines.Writer.TryWrite(line);
                    }
                }
            }
        }

        private void ThrowIfUnserved()
        {
            if (_unserved)
            {
                throw new InvalidOperationException($"{_path} is no longer served; Serve it again for a new collection");
            }
        }

        private JsonObject BookmarkObject(string resourceVersion) => new()
        {
            ["kind"] = _itemKind,
            ["apiVersion"] = _apiVersion,
            ["metadata"] = new JsonObject { ["resourceVersion"] = resourceVersion },
        };

        private static string EventLine(string type, JsonObject obj) =>
            new JsonObject { ["type"] = type, ["object"] = obj.DeepClone() }.ToJsonString();

        private static string NameOf(JsonObject item) =>
            item["metadata"]?["name"]?.GetValue<string>() is { Length: > 0 } name
                ? name
                : throw new ArgumentException("the object has no metadata.name", nameof(item));

        /// <summary>The namespace of a collection path such as <c>/api/v1/namespaces/&lt;ns&gt;/configmaps</c>.</summary>
        private static string? NamespaceOf(string path)
        {
            var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            for (var i = 0; i + 2 < segments.Length; i++)
            {
                if (segments[i] == "namespaces")
                {
                    return Uri.UnescapeDataString(segments[i + 1]);
                }
            }
            return null;
        }

        private sealed record Change(long ResourceVersion, string Name, string? Namespace, string Line);

        /// <summary>One open watch: its own queue of lines; a null line only wakes it to notice <see cref="Dropped"/>.</summary>
        private sealed class Watcher(FieldSelector selector, bool bookmarks, bool stalled)
        {
            public volatile bool Dropped;

            private bool _ended;

            public FieldSelector Selector { get; } = selector;

            public bool Bookmarks { get; } = bookmarks;

            public bool Stalled { get; } = stalled;

            public Channel<string?> Lines { get; } = Channel.CreateUnbounded<string?>(new UnboundedChannelOptions { SingleReader = true });

            /// <summary>Still takes events: not stalled, not ended.</summary>
            public bool Live => !Stalled && !_ended;

            public void End()
            {
                _ended = true;
                Lines.Writer.TryComplete();
            }
        }
    }

    /// <summary>
    /// A field selector on <c>metadata.name</c> and <c>metadata.namespace</c>: terms joined by
    /// commas, each <c>field=value</c>, <c>field==value</c> or <c>field!=value</c>, all of which
    /// must hold. Any other field is refused, as the API server refuses fields a type does not index.
    /// </summary>
    private sealed class FieldSelector
    {
        private readonly List<(string Field, bool Equal, string Value)> _terms;

        private FieldSelector(List<(string Field, bool Equal, string Value)> terms)
        {
            _terms = terms;
        }

        public static bool TryParse(string text, out FieldSelector selector, out string problem)
        {
            selector = new FieldSelector([]);
            problem = "";
            foreach (var raw in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var (op, equal) = raw.Contains("!=", StringComparison.Ordinal) ? ("!=", false)
                    : raw.Contains("==", StringComparison.Ordinal) ? ("==", true)
                    : ("=", true);
                var at = raw.IndexOf(op, StringComparison.Ordinal);
                if (at <= 0)
                {
                    problem = $"invalid field selector term \"{raw}\": expected field=value";
                    return false;
                }
                var field = raw[..at].Trim();
                if (field is not ("metadata.name" or "metadata.namespace"))
                {
                    problem = $"field label not supported: {field}";
                    return false;
                }
                selector._terms.Add((field, equal, raw[(at + op.Length)..].Trim()));
            }
            return true;
        }

        public bool Matches(JsonObject item) => Matches(
            item["metadata"]?["name"]?.GetValue<string>() ?? "",
            item["metadata"]?["namespace"]?.GetValue<string>());

        public bool Matches(string name, string? ns) => _terms.TrueForAll(t =>
            string.Equals(t.Field == "metadata.name" ? name : ns ?? "", t.Value, StringComparison.Ordinal) == t.Equal);
    }
}
