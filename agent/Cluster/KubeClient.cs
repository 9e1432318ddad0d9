using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace NodeAgent.Cluster;

/// <summary>
/// One kind of object on the API server. Cluster-scoped when <see cref="Namespace"/> is null;
/// the core group is the empty string (<c>/api/v1</c>), any other group is under <c>/apis</c>.
/// </summary>
public sealed record ResourceType(string Group, string Version, string Plural, string? Namespace = null)
{
    public static readonly ResourceType Images = new("config.openshift.io", "v1", "images");
    public static readonly ResourceType ClusterVersions = new("config.openshift.io", "v1", "clusterversions");
    public static readonly ResourceType ImageDigestMirrorSets = new("config.openshift.io", "v1", "imagedigestmirrorsets");
    public static readonly ResourceType ImageTagMirrorSets = new("config.openshift.io", "v1", "imagetagmirrorsets");
    public static readonly ResourceType ImageContentSourcePolicies = new("operator.openshift.io", "v1alpha1", "imagecontentsourcepolicies");

    public bool Namespaced => Namespace is not null;

    /// <summary>The group/version as an object's apiVersion spells it: "v1" for the core group.</summary>
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>The collection's path, e.g. <c>/api/v1/namespaces/openshift-config/configmaps</c>.</summary>
    public string Path
    {
        get
        {
            var root = Group.Length == 0 ? $"/api/{Version}" : $"/apis/{Group}/{Version}";
            return Namespace is null ? $"{root}/{Plural}" : $"{root}/namespaces/{Uri.EscapeDataString(Namespace)}/{Plural}";
        }
    }

    public static ResourceType ConfigMaps(string @namespace) => new("", "v1", "configmaps", @namespace);

    public static readonly ResourceType Nodes = new("", "v1", "nodes");

    /// <summary>core/v1 Events in <paramref name="namespace"/>; a Node's events live in <c>default</c>, as kubelet's do.</summary>
    public static ResourceType Events(string @namespace) => new("", "v1", "events", @namespace);

    public override string ToString() => Path;
}

/// <summary>
/// The API server said no. <see cref="StatusCode"/> is the HTTP status (or a watch ERROR event's
/// Status code): 410 Gone means the resourceVersion is too old and the caller must relist; 404 on
/// a collection means the resource type is not served; 5xx is the server's trouble.
/// </summary>
public sealed class KubeApiException(int statusCode, string reason, string message)
    : Exception($"API server answered {statusCode} {reason}: {message}")
{
    public int StatusCode { get; } = statusCode;

    /// <summary>The Status reason (<c>Expired</c>, <c>Gone</c>, <c>NotFound</c>, …) or the HTTP reason phrase.</summary>
    public string Reason { get; } = reason;

    public bool IsGone => StatusCode == (int)HttpStatusCode.Gone;
}

public enum WatchEventType
{
    Added,
    Modified,
    Deleted,
    Bookmark,
}

/// <summary>One watch event; a bookmark's object carries only <c>metadata.resourceVersion</c>.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "The watch event's field is called object, as in KubernetesClient's WatchEvent.")]
public sealed record WatchEvent(WatchEventType Type, JsonObject Object)
{
    public string? ResourceVersion => (Object["metadata"] as JsonObject)?["resourceVersion"]?.GetValue<string>();
}

/// <summary>A collection as listed: its items and the resourceVersion to watch from.</summary>
public sealed record KubeList(string ResourceVersion, IReadOnlyList<JsonObject> Items);

/// <summary>
/// A minimal API-server client, a stand-in for the KubernetesClient package (missing from the
/// package mirror here): list, watch and get of any resource type as JSON objects, which
/// <see cref="ObjectDecoder"/> turns into typed records. TLS trusts exactly the configured CA;
/// the bearer token is re-read from its file on every request.
/// </summary>
public sealed class KubeClient : IDisposable
{
    /// <summary>How long a list or get may take; a watch is bounded by its timeoutSeconds instead.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The default <see cref="WatchGrace"/>.</summary>
    public static readonly TimeSpan DefaultWatchGrace = TimeSpan.FromSeconds(30);

    private readonly KubeConfig _config;
    private readonly HttpClient _http;
    private readonly X509Certificate2Collection _trusted = [];
    private readonly X509Certificate2? _clientCertificate;
    private string? _lastToken;

    /// <summary>The API server's URL.</summary>
    public Uri Server => _config.Server;

    /// <summary>Where the connection came from: the kubeconfig file or the service account.</summary>
    public string Source => _config.Source;

    /// <summary>How long past its timeoutSeconds a watch may last before it is dropped as stalled (a half-open connection).</summary>
    public TimeSpan WatchGrace { get; init; } = DefaultWatchGrace;

    public KubeClient(KubeConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        _config = config;
        if (config.CertificateAuthority is { } ca)
        {
            try
            {
                _trusted.AddRange(LoadCertificates(ca));
            }
            catch (System.Security.Cryptography.CryptographicException e)
            {
                throw new KubeConfigException(config.Source, "certificate-authority", $"not a PEM or DER certificate: {e.Message}");
            }
            if (_trusted.Count == 0)
            {
                throw new KubeConfigException(config.Source, "certificate-authority", "holds no certificate");
            }
        }
        if (config.ClientCertificate is not null || config.ClientKey is not null)
        {
            if (config.ClientCertificate is null || config.ClientKey is null)
            {
                throw new KubeConfigException(config.Source, config.ClientKey is null ? "client-key" : "client-certificate",
                    "a client certificate needs both client-certificate(-data) and client-key(-data)");
            }
            try
            {
                _clientCertificate = X509Certificate2.CreateFromPem(
                    System.Text.Encoding.UTF8.GetString(config.ClientCertificate),
                    System.Text.Encoding.UTF8.GetString(config.ClientKey));
            }
            catch (System.Security.Cryptography.CryptographicException e)
            {
                throw new KubeConfigException(config.Source, "client-certificate", $"the certificate and key do not load as a PEM pair: {e.Message}");
            }
        }
        var handler = new SocketsHttpHandler
        {
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            ConnectTimeout = TimeSpan.FromSeconds(30),
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = ValidateServer,
            },
        };
        if (_clientCertificate is not null)
        {
            var certificate = _clientCertificate;
            handler.SslOptions.ClientCertificates = new X509CertificateCollection { certificate };
            // Offer the certificate whatever issuers the server lists; the API server decides.
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate;
        }
        _http = new HttpClient(handler, disposeHandler: true)
        {
            BaseAddress = config.Server,
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>
    /// Every object of <paramref name="type"/>, with <c>resourceVersion=0</c> so the API server
    /// answers from its watch cache. Items without apiVersion/kind (typed lists omit them) get
    /// them from the list, so <see cref="ObjectDecoder.Classify"/> works on every item.
    /// </summary>
    public async Task<KubeList> ListAsync(ResourceType type, string? fieldSelector, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(type);
        var query = "resourceVersion=0" + Selector(fieldSelector);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        using var response = await SendAsync($"{type.Path}?{query}", timeout.Token).ConfigureAwait(false);
        var list = await response.Content.ReadFromJsonAsync(KubeClientJsonContext.Default.ListEnvelope, timeout.Token).ConfigureAwait(false)
            ?? throw new KubeApiException((int)response.StatusCode, "BadResponse", $"{type.Path}: the list is null");
        var items = list.Items ?? [];
        foreach (var item in items)
        {
            ObjectDecoder.TakeTypeFromList(item, list.ApiVersion ?? type.ApiVersion, list.Kind);
        }
        return new KubeList(list.Metadata?.ResourceVersion ?? "", items);
    }

    /// <summary>One object by name.</summary>
    public async Task<JsonObject> GetAsync(ResourceType type, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentException.ThrowIfNullOrEmpty(name);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        using var response = await SendAsync($"{type.Path}/{Uri.EscapeDataString(name)}", timeout.Token).ConfigureAwait(false);
        var node = await JsonNode.ParseAsync(await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false), cancellationToken: timeout.Token).ConfigureAwait(false);
        return node as JsonObject ?? throw new KubeApiException((int)response.StatusCode, "BadResponse", $"{type.Path}/{name}: not a JSON object");
    }

    /// <summary>Creates <paramref name="item"/> in <paramref name="type"/>'s collection (POST).</summary>
    public async Task CreateAsync(ResourceType type, JsonObject item, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(item);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        using var content = new StringContent(item.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        using var response = await SendAsync(HttpMethod.Post, type.Path, content, timeout.Token).ConfigureAwait(false);
    }

    /// <summary>Applies a JSON merge patch (RFC 7386) to one object.</summary>
    public async Task MergePatchAsync(ResourceType type, string name, JsonObject patch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(patch);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        using var content = new StringContent(patch.ToJsonString(), System.Text.Encoding.UTF8, "application/merge-patch+json");
        using var response = await SendAsync(HttpMethod.Patch, $"{type.Path}/{Uri.EscapeDataString(name)}", content, timeout.Token).ConfigureAwait(false);
    }

    /// <summary>
    /// Events after <paramref name="resourceVersion"/>, with bookmarks, until the server ends the
    /// watch (after about <paramref name="timeoutSeconds"/>) or <paramref name="cancellationToken"/>
    /// fires. An ERROR event is thrown as <see cref="KubeApiException"/> with its Status code, so
    /// a 410 looks the same whether it came as the HTTP status or inside the stream.
    /// </summary>
    public async IAsyncEnumerable<WatchEvent> WatchAsync(
        ResourceType type,
        string resourceVersion,
        string? fieldSelector,
        int timeoutSeconds,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timeoutSeconds);
        var query = $"watch=true&allowWatchBookmarks=true&resourceVersion={Uri.EscapeDataString(resourceVersion ?? "")}&timeoutSeconds={timeoutSeconds}" + Selector(fieldSelector);
        // A half-open connection sends nothing forever; the server ends a healthy watch by timeoutSeconds.
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stall.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds) + WatchGrace);
        using var response = await SendAsync($"{type.Path}?{query}", stall.Token).ConfigureAwait(false);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(stall.Token).ConfigureAwait(false));
        while (true)
        {
            string? line;
            try
            {
                line = await reader.ReadLineAsync(stall.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"{type.Path}: the watch did not end within its timeoutSeconds ({timeoutSeconds}) + {WatchGrace.TotalSeconds}s");
            }
            if (line is null)
            {
                yield break;
            }
            if (line.Length == 0)
            {
                continue;
            }
            yield return Parse(type, line);
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _clientCertificate?.Dispose();
        foreach (var certificate in _trusted)
        {
            certificate.Dispose();
        }
    }

    private static WatchEvent Parse(ResourceType type, string line)
    {
        EventEnvelope? envelope;
        try
        {
            envelope = JsonSerializer.Deserialize(line, KubeClientJsonContext.Default.EventEnvelope);
        }
        catch (JsonException e)
        {
            throw new KubeApiException(0, "BadWatchEvent", $"{type.Path}: a watch line is not JSON: {e.Message}");
        }
        if (envelope?.Object is not { } obj)
        {
            throw new KubeApiException(0, "BadWatchEvent", $"{type.Path}: a watch event has no object");
        }
        return envelope.Type switch
        {
            "ADDED" => new WatchEvent(WatchEventType.Added, obj),
            "MODIFIED" => new WatchEvent(WatchEventType.Modified, obj),
            "DELETED" => new WatchEvent(WatchEventType.Deleted, obj),
            "BOOKMARK" => new WatchEvent(WatchEventType.Bookmark, obj),
            "ERROR" => throw StatusException(obj.Deserialize(KubeClientJsonContext.Default.Status), 0, "Error"),
            var other => throw new KubeApiException(0, "BadWatchEvent", $"{type.Path}: unknown watch event type \"{other}\""),
        };
    }

    private static KubeApiException StatusException(Status? status, int fallbackCode, string fallbackReason) => new(
        status?.Code is > 0 and var code ? code : fallbackCode,
        string.IsNullOrEmpty(status?.Reason) ? fallbackReason : status.Reason,
        status?.Message ?? "");

    private static string Selector(string? fieldSelector) =>
        string.IsNullOrEmpty(fieldSelector) ? "" : "&fieldSelector=" + Uri.EscapeDataString(fieldSelector);

    private static X509Certificate2Collection LoadCertificates(byte[] bytes)
    {
        var collection = new X509Certificate2Collection();
        var text = System.Text.Encoding.ASCII.GetString(bytes);
        if (text.Contains("-----BEGIN", StringComparison.Ordinal))
        {
            collection.ImportFromPem(text);
        }
        else
        {
            collection.Add(X509CertificateLoader.LoadCertificate(bytes));
        }
        return collection;
    }

    private Task<HttpResponseMessage> SendAsync(string pathAndQuery, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, pathAndQuery, null, cancellationToken);

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string pathAndQuery, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, pathAndQuery) { Content = content };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (BearerToken() is { Length: > 0 } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }
        using (response)
        {
            Status? status = null;
            try
            {
                status = await response.Content.ReadFromJsonAsync(KubeClientJsonContext.Default.Status, cancellationToken).ConfigureAwait(false);
            }
            catch (JsonException)
            {
            }
            catch (NotSupportedException)
            {
                // Not JSON at all (a proxy's HTML page): the HTTP status says enough.
            }
            throw StatusException(
                status is null ? null : status with { Code = (int)response.StatusCode },
                (int)response.StatusCode,
                response.ReasonPhrase ?? response.StatusCode.ToString());
        }
    }

    /// <summary>The token file's current content, else the last one read, else the inline token.</summary>
    private string? BearerToken()
    {
        if (_config.TokenFile is { } file)
        {
            try
            {
                _lastToken = File.ReadAllText(file).Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // kubelet swaps the file by symlink; a failed read mid-swap keeps the last good token.
            }
            return _lastToken ?? _config.Token;
        }
        return _config.Token;
    }

    private bool ValidateServer(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (_config.InsecureSkipTlsVerify)
        {
            return true;
        }
        if (_trusted.Count == 0)
        {
            return errors == SslPolicyErrors.None;
        }
        // The system store does not know our CA, so only a chain error is ours to re-decide.
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var custom = Rendering.CaCertificates.ChainToRoots(leaf, chain, _trusted, out var valid);
        return valid;
    }
}

internal sealed record ListMeta([property: JsonPropertyName("resourceVersion")] string? ResourceVersion);

internal sealed record ListEnvelope(
    [property: JsonPropertyName("apiVersion")] string? ApiVersion,
    [property: JsonPropertyName("kind")] string? Kind,
    [property: JsonPropertyName("metadata")] ListMeta? Metadata,
    [property: JsonPropertyName("items")] List<JsonObject>? Items);

internal sealed record EventEnvelope(
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("object")] JsonObject? Object);

internal sealed record Status(
    [property: JsonPropertyName("code")] int? Code,
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("message")] string? Message);

/// <summary>Source-generated metadata for the API server's envelopes: lists, watch events, Status.</summary>
[JsonSourceGenerationOptions(UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip, MaxDepth = 1001)]
[JsonSerializable(typeof(ListEnvelope))]
[JsonSerializable(typeof(EventEnvelope))]
[JsonSerializable(typeof(Status))]
internal sealed partial class KubeClientJsonContext : JsonSerializerContext;
