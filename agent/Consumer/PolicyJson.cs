using System.Text.Json;
using NodeAgent.Rendering;

namespace NodeAgent.Consumer;

/// <summary>One requirement of a policy.json scope: its type and what it asks for, in words.</summary>
public sealed record PolicyRequirement(string Type, string Detail);

/// <summary>
/// A policy.json as containers/image reads it (<c>signature/policy_config.go</c>): the default
/// requirements and, per transport, the requirements of each scope.
/// </summary>
public sealed record PolicyDocument(
    IReadOnlyList<PolicyRequirement> Default,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, IReadOnlyList<PolicyRequirement>>> Transports);

/// <summary>An invalid policy.json, naming the file and, for a JSON syntax error, the line.</summary>
public sealed class PolicyJsonException(string origin, int? line, string detail)
    : Exception($"invalid policy in {GoQuote.Quote(origin)}: {(line is null ? "" : $"line {line}: ")}{detail}")
{
    public string Origin { get; } = origin;

    public int? Line { get; } = line;
}

/// <summary>
/// Reads policy.json with the checks that decide what a pull meets: the JSON, the required
/// <c>default</c>, non-empty requirement lists, known requirement types. containers/image checks
/// more (every key of every requirement); a file this reader accepts can still be refused there.
/// </summary>
public static class PolicyJsonReader
{
    private static readonly HashSet<string> KnownTypes = new(StringComparer.Ordinal)
    {
        "insecureAcceptAnything", "reject", "signedBy", "sigstoreSigned", "signedBaseLayer",
    };

    public static PolicyDocument Parse(string text, string origin)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new PolicyJsonException(origin, (int?)e.LineNumber + 1, e.Message);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new PolicyJsonException(origin, null, $"expected a JSON object, got {root.ValueKind}");
            }
            IReadOnlyList<PolicyRequirement>? defaults = null;
            var transports = new Dictionary<string, IReadOnlyDictionary<string, IReadOnlyList<PolicyRequirement>>>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "default":
                        defaults = Requirements(origin, "default", property.Value);
                        break;
                    case "transports":
                        if (property.Value.ValueKind != JsonValueKind.Object)
                        {
                            throw new PolicyJsonException(origin, null, "\"transports\" must be an object of transport names");
                        }
                        foreach (var transport in property.Value.EnumerateObject())
                        {
                            if (transport.Value.ValueKind != JsonValueKind.Object)
                            {
                                throw new PolicyJsonException(origin, null, $"transports.{transport.Name} must be an object of scopes");
                            }
                            transports[transport.Name] = transport.Value.EnumerateObject().ToDictionary(
                                scope => scope.Name,
                                scope => (IReadOnlyList<PolicyRequirement>)Requirements(origin, $"transports.{transport.Name}[{GoQuote.Quote(scope.Name)}]", scope.Value),
                                StringComparer.Ordinal);
                        }
                        break;
                    default:
                        throw new PolicyJsonException(origin, null, $"Unknown key {GoQuote.Quote(property.Name)} (known: default, transports)");
                }
            }
            return new PolicyDocument(
                defaults ?? throw new PolicyJsonException(origin, null, "Default policy is missing (\"default\" is required)"),
                transports);
        }
    }

    private static List<PolicyRequirement> Requirements(string origin, string where, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new PolicyJsonException(origin, null, $"{where} must be a list of requirements");
        }
        var list = new List<PolicyRequirement>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object ||
                !item.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
            {
                throw new PolicyJsonException(origin, null, $"{where}: every requirement needs a \"type\"");
            }
            var type = typeElement.GetString()!;
            if (!KnownTypes.Contains(type))
            {
                throw new PolicyJsonException(origin, null, $"{where}: Unknown policy requirement type {GoQuote.Quote(type)} (known: {string.Join(", ", KnownTypes)})");
            }
            list.Add(new PolicyRequirement(type, Describe(type, item)));
        }
        if (list.Count == 0)
        {
            throw new PolicyJsonException(origin, null, $"{where}: List of verification policy requirements must not be empty");
        }
        return list;
    }

    private static string Describe(string type, JsonElement requirement)
    {
        var parts = new List<string>();
        void Add(string key, string label)
        {
            if (requirement.TryGetProperty(key, out var v))
            {
                parts.Add(v.ValueKind switch
                {
                    JsonValueKind.String => $"{label} {v.GetString()}",
                    JsonValueKind.Array => $"{label} {string.Join(", ", v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText()))}",
                    _ => label,
                });
            }
        }
        switch (type)
        {
            case "insecureAcceptAnything":
                return "accepts any image, signed or not";
            case "reject":
                return "rejects every image";
            case "signedBaseLayer":
                return "not implemented in containers/image: every image is rejected";
            case "signedBy":
                Add("keyType", "key type");
                Add("keyPath", "key file");
                Add("keyPaths", "key files");
                if (requirement.TryGetProperty("keyData", out _))
                {
                    parts.Add("key data inline");
                }
                break;
            case "sigstoreSigned":
                Add("keyPath", "public key file");
                Add("keyPaths", "public key files");
                if (requirement.TryGetProperty("keyData", out _) || requirement.TryGetProperty("keyDatas", out _))
                {
                    parts.Add("public key data inline");
                }
                if (requirement.TryGetProperty("fulcio", out _))
                {
                    parts.Add("Fulcio certificates");
                }
                if (requirement.TryGetProperty("pki", out _))
                {
                    parts.Add("X.509 PKI");
                }
                Add("rekorPublicKeyPath", "Rekor key file");
                break;
        }
        if (requirement.TryGetProperty("signedIdentity", out var identity) && identity.ValueKind == JsonValueKind.Object &&
            identity.TryGetProperty("type", out var identityType))
        {
            parts.Add($"identity {identityType.GetString()}");
        }
        return string.Join("; ", parts);
    }
}

/// <summary>The verdict policy.json gives a pull.</summary>
public static class PolicyVerdicts
{
    public const string Accepted = "accepted";
    public const string Rejected = "rejected";
    public const string SignatureRequired = "signature-required";
    public const string NoPolicy = "no-policy";
}

/// <summary>Which policy.json section applies to a docker reference, and what it decides.</summary>
public sealed record PolicyDecision(
    IReadOnlyList<string> ScopesLookedUp,
    string? MatchedScope,
    string Section,
    IReadOnlyList<PolicyRequirement> Requirements,
    string Verdict,
    string Summary);

/// <summary>
/// containers/image's policy lookup for the <c>docker</c> transport
/// (<c>signature/policy_eval.go</c> <c>requirementsForImageRef</c>, with
/// <c>docker/policyconfiguration/naming.go</c> for the scopes).
/// </summary>
public static class PolicyLookup
{
    public const string DockerTransport = "docker";

    /// <summary>
    /// The scopes tried, in order: the reference with its tag or digest, the repository, each
    /// parent namespace, <c>host[:port]</c>, then <c>*.</c> wildcards of the host's parent domains
    /// without the port (<c>a.b.example.com:5000/x</c> → <c>*.b.example.com</c>,
    /// <c>*.example.com</c>, <c>*.com</c>). The wildcards follow current containers/image
    /// (<c>DockerReferenceNamespaces</c>, also in the 5.23 that skopeo 1.9 is built on); older
    /// versions stopped at the host. The transport's <c>""</c> scope and <c>default</c> follow.
    /// </summary>
    public static IReadOnlyList<string> DockerScopes(ImageReference reference)
    {
        var scopes = new List<string> { reference.ToString() };
        var name = reference.Name;
        while (true)
        {
            scopes.Add(name);
            var slash = name.LastIndexOf('/');
            if (slash < 0)
            {
                break;
            }
            name = name[..slash];
        }
        var colon = name.IndexOf(':', StringComparison.Ordinal);
        var host = colon >= 0 ? name[..colon] : name;
        for (var dot = host.IndexOf('.', StringComparison.Ordinal); dot >= 0; dot = host.IndexOf('.', dot + 1))
        {
            scopes.Add("*" + host[dot..]);
        }
        return scopes;
    }

    /// <summary>The decision for a pull of <paramref name="reference"/>: mirrors do not change it, the logical reference is checked.</summary>
    public static PolicyDecision Decide(PolicyDocument policy, ImageReference reference)
    {
        var looked = new List<string>();
        if (policy.Transports.TryGetValue(DockerTransport, out var scopes))
        {
            foreach (var scope in DockerScopes(reference).Append(""))
            {
                looked.Add(scope);
                if (scopes.TryGetValue(scope, out var requirements))
                {
                    var section = $"transports.docker[{GoQuote.Quote(scope)}]";
                    return Verdict(looked, scope, section, requirements);
                }
            }
        }
        return Verdict(looked, null, "default", policy.Default);
    }

    private static PolicyDecision Verdict(List<string> looked, string? scope, string section, IReadOnlyList<PolicyRequirement> requirements)
    {
        // Every requirement must accept: one reject decides, then signatures, else anything goes.
        var (verdict, summary) = requirements switch
        {
            _ when requirements.Any(r => r.Type is "reject") => (PolicyVerdicts.Rejected, "rejected: the scope's requirements include reject"),
            _ when requirements.Any(r => r.Type is "signedBaseLayer") => (PolicyVerdicts.Rejected, "rejected: signedBaseLayer is not implemented, so it never accepts"),
            _ when requirements.Any(r => r.Type is "signedBy" or "sigstoreSigned") =>
                (PolicyVerdicts.SignatureRequired, "requires a valid signature (" + string.Join(", ", requirements.Where(r => r.Type is "signedBy" or "sigstoreSigned").Select(r => r.Type)) + ")"),
            _ => (PolicyVerdicts.Accepted, "accepted: insecureAcceptAnything, no signature needed"),
        };
        return new PolicyDecision(looked, scope, section, requirements, verdict, summary);
    }
}
