using NodeAgent.Text;

namespace NodeAgent.Cluster;

/// <summary>One kind node-agent reads: the API group, the one served version, the kind.</summary>
public sealed record KnownKind(WatchedKind Watched, string Group, string Version, string Kind)
{
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";
}

/// <summary>What a manifest's apiVersion and kind say about it.</summary>
public abstract record KindIdentity
{
    private KindIdentity()
    {
    }

    /// <summary>One of the kinds node-agent reads.</summary>
    public sealed record Known(KnownKind Kind) : KindIdentity;

    /// <summary>Almost one of them: a slip in the kind, group or version. Invalid input, with the suggestion for <paramref name="Field"/>.</summary>
    public sealed record NearMiss(string Field, string Message) : KindIdentity;

    /// <summary>Something else (a Deployment, an ImageStream, a MachineConfig): ignored.</summary>
    public sealed record Other : KindIdentity;
}

/// <summary>
/// The kinds of cli.md "Objects read", each at the version the API server serves, and the
/// "did you mean" for a document that is almost one of them. Strict, as the API server is: an
/// ImageDigestMirrorSet at <c>config.openshift.io/v1beta1</c> is not one node-agent reads, and
/// ignoring it would drop its mirrors from the node without a word.
/// </summary>
public static class KnownKinds
{
    public const string ConfigGroup = "config.openshift.io";
    public const string OperatorGroup = "operator.openshift.io";

    public static readonly IReadOnlyList<KnownKind> All =
    [
        new(WatchedKind.Image, ConfigGroup, "v1", "Image"),
        new(WatchedKind.ClusterVersion, ConfigGroup, "v1", "ClusterVersion"),
        new(WatchedKind.ImageDigestMirrorSet, ConfigGroup, "v1", "ImageDigestMirrorSet"),
        new(WatchedKind.ImageTagMirrorSet, ConfigGroup, "v1", "ImageTagMirrorSet"),
        new(WatchedKind.ImageContentSourcePolicy, OperatorGroup, "v1alpha1", "ImageContentSourcePolicy"),
        new(WatchedKind.ConfigMap, "", "v1", "ConfigMap"),
    ];

    private static readonly string[] OpenShiftGroups = [ConfigGroup, OperatorGroup];

    public static KnownKind Of(WatchedKind watched) => All.First(k => k.Watched == watched);

    /// <summary>Exactly one of the kinds read, or null.</summary>
    public static KnownKind? Find(string? apiVersion, string? kind) =>
        All.FirstOrDefault(k => k.Kind == kind && k.ApiVersion == apiVersion);

    /// <summary>Tells a known kind, a near miss of one (with the message) and anything else apart.</summary>
    public static KindIdentity Identify(string? apiVersion, string? kind, bool kindPresent)
    {
        if (Find(apiVersion, kind) is { } known)
        {
            return new KindIdentity.Known(known);
        }
        var (group, version) = Split(apiVersion);
        if (kind is null)
        {
            // Every object of the OpenShift groups has a kind; without one it cannot be told apart.
            return group is not null && OpenShiftGroups.Any(g => g == group || NearMiss.IsNearMiss(group, g))
                ? new KindIdentity.NearMiss("kind", kindPresent ? "expected a string" : "required")
                : new KindIdentity.Other();
        }
        foreach (var candidate in All)
        {
            var sameKind = kind == candidate.Kind;
            var closeKind = sameKind || NearMiss.IsNearMiss(kind, candidate.Kind);
            if (!closeKind)
            {
                continue;
            }
            var sameGroup = group == candidate.Group;
            var closeGroup = sameGroup || (group is not null && NearMiss.IsNearMiss(group, candidate.Group))
                || (sameKind && (apiVersion is null || OpenShiftGroups.Contains(group)));
            if (!closeGroup)
            {
                continue;
            }
            if (!sameKind)
            {
                var alsoGroup = closeGroup && apiVersion != candidate.ApiVersion ? $", with apiVersion: {candidate.ApiVersion}" : "";
                return new KindIdentity.NearMiss("kind",
                    $"{Quote(kind)} is not a kind node-agent reads; did you mean {Quote(candidate.Kind)}{alsoGroup}?");
            }
            var why = apiVersion is null ? "missing"
                : sameGroup ? $"{Quote(apiVersion)}: {candidate.Kind} is served at {candidate.ApiVersion} only"
                : $"{Quote(apiVersion)}: {candidate.Kind} belongs to the API group {(candidate.Group.Length == 0 ? "core (apiVersion v1)" : Quote(candidate.Group))}";
            return new KindIdentity.NearMiss("apiVersion", $"{why}; did you mean {Quote(candidate.ApiVersion)}?");
        }
        return new KindIdentity.Other();
    }

    // "config.openshift.io/v1" → (group, version); the core group has no group part: "v1" → ("", "v1").
    private static (string? Group, string? Version) Split(string? apiVersion)
    {
        if (apiVersion is null)
        {
            return (null, null);
        }
        var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            // A dotted name without a slash is a group whose version was left off ("config.openshift.io").
            return apiVersion.Contains('.', StringComparison.Ordinal) ? (apiVersion, null) : ("", apiVersion);
        }
        return (apiVersion[..slash], apiVersion[(slash + 1)..]);
    }

    private static string Quote(string s) => Rendering.GoQuote.Quote(s);
}
