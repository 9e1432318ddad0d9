namespace NodeAgent.Rendering;

/// <summary>
/// Writes a <see cref="ContainerdHostsFile"/> as containerd's <c>hosts.toml</c>: a header comment,
/// the root <c>server</c> with its settings, then one <c>[host."URL"]</c> table per mirror in the
/// order containerd tries them (it orders the tables by their line in the file), or an empty
/// <c>[host]</c> table when there is none. Keys containerd does not need are left out; every
/// string is escaped by <see cref="TomlWriter"/>.
/// </summary>
public static class ContainerdHostsEncoder
{
    public const string Header = "Written by node-agent from the cluster's image objects; changes made here are overwritten.";

    public const string NoMirrors = "No mirrors. containerd 1.6 and 1.7 need a host table, or they ignore this file and contact the registry directly.";

    public static byte[] Encode(ContainerdHostsFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var toml = new TomlWriter();
        toml.Comment(Header);
        if (!file.PullsReachServer)
        {
            toml.Comment("Pulls never reach the server (NeverContactSource or blocked); containerd always keeps a server, so it may push only.");
        }
        toml.Text(0, "server", file.Server.Url);
        Settings(toml, 0, file.Server);
        foreach (var host in file.Hosts)
        {
            toml.Table(0, "host", host.Url);
            Settings(toml, 2, host);
        }
        if (file.Hosts.Count == 0)
        {
            // containerd 1.6 and 1.7 fail to decode a file without a host table and fall back to the
            // registry itself with every capability: a blocked registry would be contacted.
            toml.Blank().Comment(NoMirrors).Header("host");
        }
        return toml.ToUtf8();
    }

    private static void Settings(TomlWriter toml, int indent, ContainerdEndpoint endpoint)
    {
        if (endpoint.Capabilities.Count > 0)
        {
            toml.StringArray(indent, "capabilities", endpoint.Capabilities);
        }
        if (endpoint.OverridePath)
        {
            toml.Flag(indent, "override_path");
        }
        if (endpoint.SkipVerify)
        {
            toml.Flag(indent, "skip_verify");
        }
        if (endpoint.Ca is { } ca)
        {
            toml.Text(indent, "ca", ca);
        }
    }
}
