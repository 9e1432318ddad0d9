namespace NodeAgent.Consumer;

/// <summary>What is at one certs.d candidate for a host: whether it exists and the names in it.</summary>
/// <param name="Path">Relative to the root, as output names it: <c>etc/docker/certs.d/HOST</c>.</param>
/// <param name="Files">File names directly in the directory (regular files and links), any order.</param>
/// <param name="Problem">Why the directory could not be listed (a symbolic link node-agent does not follow), if so.</param>
public sealed record CertsDirListing(string Path, bool Exists, IReadOnlyList<string> Files, string? Problem = null);

/// <summary>The certs.d directory containers/image uses for one host, what it loads from it, and what it hides.</summary>
public sealed record CertsChoice(
    string Host,
    string? Directory,
    IReadOnlyList<string> Checked,
    IReadOnlyList<string> CaFiles,
    IReadOnlyList<string> ClientCertificates,
    string? Error,
    string? Warning);

/// <summary>
/// containers/image's certs.d rules (containers-image.md §2.2, §2.3): the first existing of
/// <c>/etc/containers/certs.d/HOST</c> and <c>/etc/docker/certs.d/HOST</c> is the only one read
/// (<c>$HOME/.config/containers/certs.d/HOST</c> comes first for a non-root user; node-agent
/// explains the node as root sees it). In it, <c>*.crt</c> files are CAs added to the system
/// roots, <c>*.cert</c>/<c>*.key</c> pairs are client certificates, and an unpaired one fails every
/// connection to that host.
/// </summary>
public static class CertsDirectory
{
    /// <summary>Picks the directory from <paramref name="candidates"/>, given in containers/image's order.</summary>
    public static CertsChoice Choose(string host, IReadOnlyList<CertsDirListing> candidates)
    {
        var used = candidates.FirstOrDefault(c => c.Exists);
        var checkedPaths = candidates.TakeWhile(c => !ReferenceEquals(c, used)).Select(c => c.Path).Append(used?.Path).OfType<string>().ToList();
        if (used is null)
        {
            return new CertsChoice(host, null, checkedPaths, [], [], null, null);
        }
        if (used.Problem is not null)
        {
            return new CertsChoice(host, used.Path, checkedPaths, [], [], used.Problem, null);
        }
        var names = used.Files.Order(StringComparer.Ordinal).ToList();
        var set = names.ToHashSet(StringComparer.Ordinal);
        var cas = new List<string>();
        var clients = new List<string>();
        string? error = null;
        // SetupCertificates reads the directory in name order and stops at the first unpaired file.
        foreach (var name in names)
        {
            if (name.EndsWith(".crt", StringComparison.Ordinal))
            {
                cas.Add(name);
            }
            else if (name.EndsWith(".cert", StringComparison.Ordinal))
            {
                var key = name[..^".cert".Length] + ".key";
                if (!set.Contains(key))
                {
                    error ??= $"missing key {key} for client certificate {name}. Note that CA certificates should use the extension .crt";
                    continue;
                }
                clients.Add($"{name} + {key}");
            }
            else if (name.EndsWith(".key", StringComparison.Ordinal) && !set.Contains(name[..^".key".Length] + ".cert"))
            {
                error ??= $"missing client certificate {name[..^".key".Length]}.cert for key {name}";
            }
        }
        return new CertsChoice(host, used.Path, checkedPaths, cas, clients, error, ShadowWarning(used, candidates, cas));
    }

    // A directory in the first candidate hides the later ones completely: no merge.
    private static string? ShadowWarning(CertsDirListing used, IReadOnlyList<CertsDirListing> candidates, List<string> usedCas)
    {
        var hidden = candidates.SkipWhile(c => !ReferenceEquals(c, used)).Skip(1).Where(c => c.Exists).ToList();
        if (hidden.Count == 0)
        {
            return null;
        }
        var hiddenWithCa = hidden.Where(h => h.Files.Any(f => f.EndsWith(".crt", StringComparison.Ordinal))).ToList();
        if (hiddenWithCa.Count > 0 && usedCas.Count == 0)
        {
            var h = hiddenWithCa[0];
            return $"{used.Path} shadows {h.Path}: its CA files ({string.Join(", ", h.Files.Where(f => f.EndsWith(".crt", StringComparison.Ordinal)).Order(StringComparer.Ordinal))}) " +
                $"are NOT used, and {used.Path} has none, so only the system roots are trusted for this host";
        }
        return $"{used.Path} shadows {string.Join(", ", hidden.Select(h => h.Path))}: containers/image reads only the first existing directory";
    }
}
