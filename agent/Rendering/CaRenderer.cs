using System.Globalization;
using NodeAgent.Resources;

namespace NodeAgent.Rendering;

/// <summary>Everything the CA render reads.</summary>
public sealed record CaInputs
{
    public ClusterSnapshot Snapshot { get; init; } = ClusterSnapshot.Empty;

    /// <summary>Namespace of the additionalTrustedCA ConfigMap (<c>CaNamespace</c>).</summary>
    public string CaNamespace { get; init; } = "openshift-config";

    /// <summary><c>namespace/name</c> of the managed CA ConfigMap, or empty for none.</summary>
    public string ManagedCaConfigMap { get; init; } = "openshift-config-managed/image-registry-ca";

    /// <summary>The moment expiry is judged against; the caller's clock, so the render stays pure.</summary>
    public DateTimeOffset Now { get; init; }
}

/// <summary>The CA bundle for one registry directory, in normalised PEM.</summary>
public sealed record CaBundle(string Directory, byte[] Pem, IReadOnlyList<CaCertificate> Certificates, IReadOnlyList<string> Keys);

/// <summary>
/// What the CA sync should do: the bundles to write, the directories whose key is present but
/// unusable (their previous good file stays), and what was found on the way.
/// </summary>
public sealed record CaRenderResult(IReadOnlyList<CaBundle> Bundles, IReadOnlySet<string> KeepExisting, IReadOnlyList<Problem> Problems);

/// <summary>
/// certs.md as a pure function: the ConfigMap named by <c>Image/cluster
/// spec.additionalTrustedCA.name</c> and the optional managed CA ConfigMap, key by key, to one
/// bundle per registry. When both ConfigMaps name the same registry, both bundles are kept (the
/// cluster's own first): containers/image trusts every certificate in <c>ca.crt</c>.
/// </summary>
public static class CaRenderer
{
    public static readonly TimeSpan ExpiryWarning = TimeSpan.FromDays(30);

    public static CaRenderResult Render(CaInputs inputs)
    {
        var problems = new List<Problem>();
        var certificates = new SortedDictionary<string, List<CaCertificate>>(ByteOrder.Instance);
        var keys = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var keep = new HashSet<string>(StringComparer.Ordinal);

        foreach (var configMap in Sources(inputs, problems))
        {
            var subject = $"ConfigMap/{configMap.Namespace}/{configMap.Name}";
            var values = (configMap.Data ?? new Dictionary<string, string?>()).Select(d => (Key: d.Key, Field: "data", Bytes: System.Text.Encoding.UTF8.GetBytes(d.Value ?? "")))
                .Concat((configMap.BinaryData ?? new Dictionary<string, byte[]?>()).Select(b => (Key: b.Key, Field: "binaryData", Bytes: b.Value ?? [])))
                .OrderBy(v => v.Key, ByteOrder.Instance);
            foreach (var (key, field, bytes) in values)
            {
                var where = new FieldRef(subject, $"{field}[{GoQuote.Quote(key)}]");
                if (!CaKey.TryMap(key, out var directory, out var reason))
                {
                    problems.Add(Problem.Warning(where, $"skipped: the key is not a registry host[..port]: {reason}"));
                    continue;
                }
                var parsed = CaCertificates.Parse(bytes);
                if (parsed.Count == 0)
                {
                    problems.Add(Problem.Warning(where,
                        $"skipped: no X.509 certificate could be read (a key, garbage or truncated PEM?); the previous ca.crt for {directory}, if any, stays"));
                    keep.Add(directory);
                    continue;
                }
                foreach (var certificate in parsed)
                {
                    WarnIfExpiring(where, directory, certificate, inputs.Now, problems);
                }
                if (!certificates.TryGetValue(directory, out var list))
                {
                    certificates[directory] = list = [];
                    keys[directory] = [];
                }
                list.AddRange(parsed.Where(p => !list.Any(l => l.Der.AsSpan().SequenceEqual(p.Der))));
                keys[directory].Add($"{subject} {key}");
            }
        }
        // A registry with any unusable value keeps its previous file whole: rewriting it from the
        // values that did parse would drop the certificates the bad value used to carry.
        var bundles = certificates.Where(c => !keep.Contains(c.Key))
            .Select(c => new CaBundle(c.Key, CaCertificates.ToPem(c.Value), c.Value, keys[c.Key])).ToList();
        return new CaRenderResult(bundles, keep, problems);
    }

    private static IEnumerable<ConfigMap> Sources(CaInputs inputs, List<Problem> problems)
    {
        var name = inputs.Snapshot.Image?.Spec?.AdditionalTrustedCA?.Name;
        if (!string.IsNullOrEmpty(name))
        {
            var configMap = Find(inputs.Snapshot, inputs.CaNamespace, name);
            if (configMap is null)
            {
                problems.Add(Problem.Warning(new FieldRef("Image/cluster", "spec.additionalTrustedCA.name"),
                    $"the ConfigMap {inputs.CaNamespace}/{name} does not exist; no CAs from it"));
            }
            else
            {
                yield return configMap;
            }
        }
        if (inputs.ManagedCaConfigMap.Split('/') is [{ Length: > 0 } ns, { Length: > 0 } managed] && Find(inputs.Snapshot, ns, managed) is { } managedMap)
        {
            yield return managedMap;
        }
    }

    private static ConfigMap? Find(ClusterSnapshot snapshot, string ns, string name) =>
        snapshot.ConfigMaps.FirstOrDefault(c => c.Namespace == ns && c.Name == name);

    private static void WarnIfExpiring(FieldRef where, string directory, CaCertificate certificate, DateTimeOffset now, List<Problem> problems)
    {
        var left = certificate.NotAfter - now;
        var when = certificate.NotAfter.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        if (left <= TimeSpan.Zero)
        {
            problems.Add(Problem.Warning(where, $"the certificate {GoQuote.Quote(certificate.Subject)} for {directory} expired on {when}; it is still written"));
        }
        else if (left <= ExpiryWarning)
        {
            problems.Add(Problem.Warning(where, $"the certificate {GoQuote.Quote(certificate.Subject)} for {directory} expires on {when} (in {ExpiryDays.Left(certificate.NotAfter, now)} days)"));
        }
    }
}
