using System.Text.RegularExpressions;

namespace NodeAgent.Tests.Support;

/// <summary>One endpoint of a hosts.toml as node-agent writes it.</summary>
public sealed record HostsTomlEndpoint(string Url, IReadOnlyList<string> Capabilities, bool OverridePath, bool SkipVerify, string? Ca)
{
    /// <summary>containerd's default when no capability is listed: everything.</summary>
    public bool Can(string capability) => Capabilities.Count == 0 || Capabilities.Contains(capability);

    /// <summary>
    /// The URL containerd requests for a manifest of <paramref name="repository"/>: the endpoint's
    /// path, with <c>/v2</c> added unless <c>override_path</c> is set or it already ends so, then the
    /// repository, as containerd's <c>parseHostConfig</c> and request builder do.
    /// </summary>
    public string ManifestUrl(string repository, string reference)
    {
        var uri = new Uri(Url);
        var path = uri.AbsolutePath.TrimEnd('/');
        if (!OverridePath && !path.EndsWith("/v2", StringComparison.Ordinal))
        {
            path += "/v2";
        }
        return $"{uri.Scheme}://{uri.Authority}{path}/{repository}/manifests/{reference}";
    }
}

/// <summary>
/// A strict reading of exactly the hosts.toml shape node-agent writes, independent of the agent's
/// code and of any TOML library: header comments, then <c>server</c> and its settings, then
/// <c>[host."URL"]</c> tables with their settings indented by two spaces, each after one blank line
/// (or, with no mirror, one blank line, a comment and an empty <c>[host]</c> table);
/// only the keys node-agent uses, each at most once; basic strings without escapes. Anything else
/// is an error naming the line. <see cref="Consumer.ContainerdClientTests"/> then checks that
/// containerd's own client reads each golden file to the same endpoints, in the same order.
/// </summary>
public sealed partial record HostsTomlShape(HostsTomlEndpoint Server, IReadOnlyList<HostsTomlEndpoint> Hosts)
{
    /// <summary>Hosts in file order, then the server: the order containerd tries them in.</summary>
    public IEnumerable<HostsTomlEndpoint> TryOrder => Hosts.Append(Server);

    public static HostsTomlShape Parse(string text)
    {
        if (!text.EndsWith('\n'))
        {
            throw new FormatException("the file does not end with a newline");
        }
        var lines = text[..^1].Split('\n');
        var i = 0;
        while (i < lines.Length && lines[i].StartsWith("# ", StringComparison.Ordinal))
        {
            i++;
        }
        if (i == 0)
        {
            throw new FormatException("line 1: the header comment is missing");
        }
        var server = Match(ServerLine(), lines, i++, "server = \"https://…\"").Groups["url"].Value;
        var root = Settings(lines, ref i, "", server);
        var hosts = new List<HostsTomlEndpoint>();
        if (i < lines.Length && i + 2 == lines.Length - 1 && lines[i].Length == 0 && lines[i + 1].StartsWith("# ", StringComparison.Ordinal) && lines[i + 2] == "[host]")
        {
            // No mirrors: a commented, empty host table ends the file.
            return new HostsTomlShape(root, hosts);
        }
        while (i < lines.Length)
        {
            if (lines[i].Length != 0)
            {
                throw new FormatException($"line {i + 1}: expected a blank line before the next table, got {lines[i]}");
            }
            var url = Match(HostHeader(), lines, ++i, "[host.\"https://…\"]").Groups["url"].Value;
            if (hosts.Any(h => h.Url == url))
            {
                throw new FormatException($"line {i + 1}: the table for {url} appears twice");
            }
            i++;
            hosts.Add(Settings(lines, ref i, "  ", url));
        }
        return new HostsTomlShape(root, hosts);
    }

    private static HostsTomlEndpoint Settings(string[] lines, ref int i, string indent, string url)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        List<string> capabilities = [];
        bool overridePath = false, skipVerify = false;
        string? ca = null;
        for (; i < lines.Length && lines[i].Length > 0; i++)
        {
            var match = Match(SettingLine(), lines, i, "a setting");
            if (match.Groups["indent"].Value != indent)
            {
                throw new FormatException($"line {i + 1}: expected an indent of {indent.Length} spaces");
            }
            var key = match.Groups["key"].Value;
            if (!seen.Add(key))
            {
                throw new FormatException($"line {i + 1}: {key} is set twice");
            }
            var value = match.Groups["value"].Value;
            switch (key)
            {
                case "capabilities":
                    capabilities = [.. Match(StringArray(), lines, i, "[\"pull\", …]", value).Groups["item"].Captures.Select(c => c.Value)];
                    if (capabilities.Count == 0 || capabilities.Any(c => c is not ("pull" or "resolve" or "push")))
                    {
                        throw new FormatException($"line {i + 1}: capabilities must be pull, resolve or push");
                    }
                    break;
                case "override_path" or "skip_verify":
                    if (value != "true")
                    {
                        throw new FormatException($"line {i + 1}: {key} is written only as true");
                    }
                    overridePath |= key == "override_path";
                    skipVerify |= key == "skip_verify";
                    break;
                case "ca":
                    ca = Match(PlainString(), lines, i, "a string", value).Groups["text"].Value;
                    break;
                default:
                    throw new FormatException($"line {i + 1}: node-agent does not write {key}");
            }
        }
        return new HostsTomlEndpoint(url, capabilities, overridePath, skipVerify, ca);
    }

    private static Match Match(Regex regex, string[] lines, int i, string expected, string? value = null)
    {
        var text = value ?? (i < lines.Length ? lines[i] : "(end of file)");
        var match = regex.Match(text);
        return match.Success ? match : throw new FormatException($"line {i + 1}: expected {expected}, got {text}");
    }

    [GeneratedRegex("""^server = "(?<url>https://[^"\\\s]+)"$""")]
    private static partial Regex ServerLine();

    [GeneratedRegex("""^\[host\."(?<url>https://[^"\\\s]+)"\]$""")]
    private static partial Regex HostHeader();

    [GeneratedRegex("""^(?<indent> *)(?<key>[a-z_]+) = (?<value>.+)$""")]
    private static partial Regex SettingLine();

    [GeneratedRegex("""^\[(?:"(?<item>[a-z]+)"(?:, (?!\])|(?=\])))*\]$""")]
    private static partial Regex StringArray();

    [GeneratedRegex("""^"(?<text>[^"\\]+)"$""")]
    private static partial Regex PlainString();
}
