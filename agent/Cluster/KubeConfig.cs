using System.Text.Json.Nodes;

namespace NodeAgent.Cluster;

/// <summary>A kubeconfig or in-cluster configuration that cannot be used, naming the file and the field.</summary>
public sealed class KubeConfigException(string source, string field, string message)
    : Exception(field.Length == 0 ? $"{source}: {message}" : $"{source}: {field}: {message}")
{
    /// <summary>The kubeconfig file, environment variable or service-account directory.</summary>
    public string Origin { get; } = source;

    public string Field { get; } = field;

    public string Reason { get; } = message;
}

/// <summary>
/// How to reach one API server: its URL, what to trust, and who we are. Built from a kubeconfig's
/// current context or from the pod's service account; the choice is always explicit (see
/// <see cref="Resolve"/>), never a guess at localhost. Certificate material is read when the
/// configuration is loaded so a bad file fails at start; a token file is kept as a path and
/// re-read per request, because kubelet rotates projected service-account tokens.
/// </summary>
public sealed record KubeConfig
{
    /// <summary>Where kubelet mounts a pod's service-account token, CA and namespace.</summary>
    public const string ServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount";

    /// <summary>The kubeconfig file, or "in-cluster service account (DIR)": named in every error.</summary>
    public required string Source { get; init; }

    public required Uri Server { get; init; }

    /// <summary>PEM (or DER) of the certificate authorities the server must chain to; null means the system trust store.</summary>
    public byte[]? CertificateAuthority { get; init; }

    public bool InsecureSkipTlsVerify { get; init; }

    public string? Token { get; init; }

    /// <summary>Re-read per request; wins over <see cref="Token"/> when both are set, as in client-go.</summary>
    public string? TokenFile { get; init; }

    public byte[]? ClientCertificate { get; init; }

    public byte[]? ClientKey { get; init; }

    /// <summary>The context's (or service account's) namespace, when given.</summary>
    public string? Namespace { get; init; }

    /// <summary>
    /// The connection to use: <paramref name="explicitPath"/> (<c>--kubeconfig</c>), else the first
    /// existing file in <c>KUBECONFIG</c> (':'-separated), else the in-cluster service account, else
    /// null, and the caller exits 3. A path that was named but is missing is an error, not a fallback.
    /// </summary>
    public static KubeConfig? Resolve(string? explicitPath, Func<string, string?> environment, string serviceAccountDirectory = ServiceAccountDirectory)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (!string.IsNullOrEmpty(explicitPath))
        {
            return Load(explicitPath);
        }
        var list = environment("KUBECONFIG");
        if (!string.IsNullOrEmpty(list))
        {
            var paths = list.Split(':', StringSplitOptions.RemoveEmptyEntries);
            var first = paths.FirstOrDefault(File.Exists)
                ?? throw new KubeConfigException("KUBECONFIG", "", $"none of the files it names exists: {list}");
            return Load(first);
        }
        return InCluster(environment, serviceAccountDirectory);
    }

    /// <summary>
    /// The pod's service account when <c>KUBERNETES_SERVICE_HOST</c> and <c>_PORT</c> are set
    /// (null otherwise); its token file must then exist.
    /// </summary>
    public static KubeConfig? InCluster(Func<string, string?> environment, string serviceAccountDirectory = ServiceAccountDirectory)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var host = environment("KUBERNETES_SERVICE_HOST");
        var port = environment("KUBERNETES_SERVICE_PORT");
        if (string.IsNullOrEmpty(host) || string.IsNullOrEmpty(port))
        {
            return null;
        }
        var source = $"in-cluster service account ({serviceAccountDirectory})";
        var tokenFile = Path.Join(serviceAccountDirectory, "token");
        if (!File.Exists(tokenFile))
        {
            throw new KubeConfigException(source, "token", $"KUBERNETES_SERVICE_HOST is set but {tokenFile} does not exist");
        }
        var ca = Path.Join(serviceAccountDirectory, "ca.crt");
        var ns = Path.Join(serviceAccountDirectory, "namespace");
        // An IPv6 service address needs brackets in a URL.
        var hostPart = host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? $"[{host}]" : host;
        if (!Uri.TryCreate($"https://{hostPart}:{port}", UriKind.Absolute, out var server))
        {
            throw new KubeConfigException(source, "KUBERNETES_SERVICE_HOST", $"\"{host}\" with port \"{port}\" is not a valid address");
        }
        return new KubeConfig
        {
            Source = source,
            Server = server,
            TokenFile = tokenFile,
            CertificateAuthority = File.Exists(ca) ? ReadFile(source, "ca.crt", ca) : null,
            Namespace = File.Exists(ns) ? File.ReadAllText(ns).Trim() : null,
        };
    }

    /// <summary>The current context of the kubeconfig at <paramref name="path"/>.</summary>
    public static KubeConfig Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KubeConfigException(path, "", $"cannot read the kubeconfig: {e.Message}");
        }
        JsonNode? root;
        try
        {
            var documents = YamlToJson.Read(path, text, ManifestLimits.Default);
            root = documents.Count == 0 ? null : documents[0].Node;
        }
        catch (ManifestException e)
        {
            throw new KubeConfigException(e.Location, "", e.Reason);
        }
        if (root is not JsonObject config)
        {
            throw new KubeConfigException(path, "", "not a kubeconfig: expected a mapping with clusters, users and contexts");
        }
        return new Reader(path, Path.GetDirectoryName(Path.GetFullPath(path)) ?? "/").Read(config);
    }

    internal static byte[] ReadFile(string source, string field, string file)
    {
        try
        {
            return File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KubeConfigException(source, field, $"cannot read {file}: {e.Message}");
        }
    }

    private sealed class Reader(string source, string directory)
    {
        public KubeConfig Read(JsonObject config)
        {
            var contextName = String(config, "current-context", "current-context");
            if (string.IsNullOrEmpty(contextName))
            {
                throw new KubeConfigException(source, "current-context", "is not set; name one of the contexts");
            }
            var context = Named(config, "contexts", "context", contextName);
            var clusterName = String(context, "cluster", $"contexts[{contextName}].context.cluster")
                ?? throw new KubeConfigException(source, $"contexts[{contextName}].context.cluster", "is not set");
            var userName = String(context, "user", $"contexts[{contextName}].context.user");
            var cluster = Named(config, "clusters", "cluster", clusterName);
            var user = userName is null ? new JsonObject() : Named(config, "users", "user", userName);

            var at = $"clusters[{clusterName}].cluster";
            var serverText = String(cluster, "server", $"{at}.server");
            if (string.IsNullOrEmpty(serverText))
            {
                throw new KubeConfigException(source, $"{at}.server", "is not set");
            }
            if (!Uri.TryCreate(serverText, UriKind.Absolute, out var server) || (server.Scheme != Uri.UriSchemeHttps && server.Scheme != Uri.UriSchemeHttp))
            {
                throw new KubeConfigException(source, $"{at}.server", $"\"{serverText}\" is not an http(s) URL");
            }
            var userAt = $"users[{userName}].user";
            var tokenFile = String(user, "tokenFile", $"{userAt}.tokenFile");
            return new KubeConfig
            {
                Source = source,
                Server = server,
                CertificateAuthority = Material(cluster, "certificate-authority", at),
                InsecureSkipTlsVerify = Bool(cluster, "insecure-skip-tls-verify", $"{at}.insecure-skip-tls-verify"),
                Token = String(user, "token", $"{userAt}.token"),
                TokenFile = string.IsNullOrEmpty(tokenFile) ? null : Resolve(tokenFile),
                ClientCertificate = Material(user, "client-certificate", userAt),
                ClientKey = Material(user, "client-key", userAt),
                Namespace = String(context, "namespace", $"contexts[{contextName}].context.namespace"),
            };
        }

        private string Resolve(string file) => Path.IsPathRooted(file) ? file : Path.GetFullPath(Path.Join(directory, file));

        /// <summary>The bytes of <c>NAME-data</c> (base64) or of the file <c>NAME</c>; data wins, as in client-go.</summary>
        private byte[]? Material(JsonObject owner, string name, string at)
        {
            var data = String(owner, name + "-data", $"{at}.{name}-data");
            if (!string.IsNullOrEmpty(data))
            {
                try
                {
                    return Convert.FromBase64String(data);
                }
                catch (FormatException)
                {
                    throw new KubeConfigException(source, $"{at}.{name}-data", "is not valid base64");
                }
            }
            var file = String(owner, name, $"{at}.{name}");
            return string.IsNullOrEmpty(file) ? null : ReadFile(source, $"{at}.{name}", Resolve(file));
        }

        /// <summary>The <paramref name="inner"/> mapping of the entry called <paramref name="name"/> in the list <paramref name="list"/>.</summary>
        private JsonObject Named(JsonObject config, string list, string inner, string name)
        {
            if (config[list] is JsonArray entries)
            {
                foreach (var entry in entries)
                {
                    if (entry is JsonObject o && o["name"] is JsonValue v && v.TryGetValue<string>(out var n) && n == name)
                    {
                        return o[inner] as JsonObject
                            ?? throw new KubeConfigException(source, $"{list}[{name}].{inner}", "is missing or not a mapping");
                    }
                }
            }
            var known = config[list] is JsonArray all
                ? string.Join(", ", all.OfType<JsonObject>().Select(o => o["name"]?.ToString()).Where(n => n is not null))
                : "";
            var singular = list.TrimEnd('s');
            throw new KubeConfigException(source, list, $"no {singular} named \"{name}\"" + (known.Length == 0 ? $" (there are no {list})" : $" (known: {known})"));
        }

        private string? String(JsonObject owner, string key, string field) => owner[key] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            var other => throw new KubeConfigException(source, field, $"expected a string, got {other.ToJsonString()}"),
        };

        private bool Bool(JsonObject owner, string key, string field) => owner[key] switch
        {
            null => false,
            JsonValue v when v.TryGetValue<bool>(out var b) => b,
            var other => throw new KubeConfigException(source, field, $"expected true or false, got {other.ToJsonString()}"),
        };
    }
}

