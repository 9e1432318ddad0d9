using System.Text;
using NodeAgent.Consumer;
using NodeAgent.Rendering;

namespace NodeAgent.Node;

/// <summary>
/// Reads, below the root, what containers/image reads on the node (for <c>explain</c>): the main
/// registries.conf, its drop-ins, the machine-written short-name aliases, policy.json and the
/// certs.d directories. Never through a symbolic link below the root (<see cref="SafePath"/>).
/// </summary>
public static class ConsumerFiles
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Loads everything; invalid files throw <see cref="RegistriesConfException"/> or <see cref="PolicyJsonException"/>.</summary>
    public static ConsumerInputs Load(HostPaths paths, ICollection<string> warnings)
    {
        var files = new List<(string, RegistriesConfFile, bool)>();
        if (ReadText(paths, HostPaths.RegistriesConf) is { } main)
        {
            files.Add((HostPaths.RegistriesConf, RegistriesConfReader.Parse(main, HostPaths.RegistriesConf), false));
        }
        foreach (var dropIn in DropIns(paths, warnings))
        {
            var text = ReadText(paths, dropIn)!;
            files.Add((dropIn, RegistriesConfReader.Parse(text, dropIn), true));
        }
        var registries = RegistriesConfiguration.Merge(files);

        FromFile<IReadOnlyDictionary<string, string>>? cachedAliases = null;
        if (ReadText(paths, HostPaths.ShortNameAliasesCache) is { } cache)
        {
            cachedAliases = new(RegistriesConfReader.Parse(cache, HostPaths.ShortNameAliasesCache).Aliases, HostPaths.ShortNameAliasesCache);
        }

        FromFile<PolicyDocument>? policy = null;
        if (ReadText(paths, HostPaths.PolicyJson) is { } policyText)
        {
            policy = new(PolicyJsonReader.Parse(policyText, HostPaths.PolicyJson), HostPaths.PolicyJson);
        }

        var certs = new Dictionary<string, CertsChoice>(StringComparer.Ordinal);
        return new ConsumerInputs(paths.Root, registries, policy, HostPaths.PolicyJson, cachedAliases,
            host => certs.TryGetValue(host, out var known) ? known : certs[host] = CertsFor(paths, host));
    }

    /// <summary>The bytes of a file in a host's certs.d directory, never through a link.</summary>
    public static byte[]? ReadCertsFile(HostPaths paths, string directory, string name) => SafePath.Read(paths, $"{directory}/{name}");

    // Regular *.conf files directly in the directory, in lexical (byte) order, as containers/image lists them.
    private static List<string> DropIns(HostPaths paths, ICollection<string> warnings)
    {
        SafePath.Check(paths, HostPaths.RegistriesDropInDirectory);
        var directory = new DirectoryInfo(paths.Resolve(HostPaths.RegistriesDropInDirectory));
        if (!directory.Exists)
        {
            return [];
        }
        var dropIns = new List<string>();
        foreach (var entry in directory.EnumerateFileSystemInfos())
        {
            if (!entry.Name.EndsWith(".conf", StringComparison.Ordinal))
            {
                continue;
            }
            var relative = $"{HostPaths.RegistriesDropInDirectory}/{entry.Name}";
            if (entry.LinkTarget is not null)
            {
                warnings.Add($"{relative}: a symbolic link (to {entry.LinkTarget}): not read; node-agent does not follow links below the root, and containers/image reads only regular files here");
                continue;
            }
            if (entry is FileInfo)
            {
                dropIns.Add(relative);
            }
        }
        dropIns.Sort(ByteOrder.Instance);
        return dropIns;
    }

    private static CertsChoice CertsFor(HostPaths paths, string host)
    {
        var listings = new List<CertsDirListing>();
        foreach (var root in new[] { HostPaths.ContainersCertsDirectory, HostPaths.DockerCertsDirectory })
        {
            var relative = $"{root}/{host}";
            try
            {
                SafePath.Check(paths, relative);
                var directory = new DirectoryInfo(paths.Resolve(relative));
                if (directory.Exists)
                {
                    listings.Add(new CertsDirListing(relative, true, directory.EnumerateFileSystemInfos().Where(e => e is FileInfo).Select(e => e.Name).ToList()));
                }
                else
                {
                    listings.Add(new CertsDirListing(relative, File.Exists(paths.Resolve(relative)), [],
                        File.Exists(paths.Resolve(relative)) ? $"{relative} is not a directory" : null));
                }
            }
            catch (UnsafePathException e)
            {
                listings.Add(new CertsDirListing(relative, true, [], $"{e.Message} (containers/image would follow it; node-agent does not look through links below the root)"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                listings.Add(new CertsDirListing(relative, false, [], null));
            }
        }
        return CertsDirectory.Choose(host, listings);
    }

    private static string? ReadText(HostPaths paths, string relative)
    {
        var bytes = SafePath.Read(paths, relative);
        if (bytes is null)
        {
            return null;
        }
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException($"{relative}: not valid UTF-8 text ({e.Message})", e);
        }
    }
}
