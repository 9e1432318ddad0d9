namespace NodeAgent.Rendering;

/// <summary>
/// Encodes <see cref="RegistriesConf"/> in the shape MCO's TOML encoder gives it (registries.md
/// §2.5): the three top-level keys, then each <c>[[registry]]</c> with its mirrors.
/// </summary>
public static class RegistriesConfEncoder
{
    public static byte[] Encode(RegistriesConf config)
    {
        var toml = new TomlWriter();
        WriteTopLevel(toml, config.UnqualifiedSearchRegistries);
        foreach (var entry in config.Registries)
        {
            toml.ArrayTable(0, "registry");
            toml.Text(2, "prefix", entry.Prefix);
            if (entry.Location.Length > 0)
            {
                toml.Text(2, "location", entry.Location);
            }
            if (entry.Insecure)
            {
                toml.Flag(2, "insecure");
            }
            if (entry.Blocked)
            {
                toml.Flag(2, "blocked");
            }
            if (entry.MirrorByDigestOnly)
            {
                toml.Flag(2, "mirror-by-digest-only");
            }
            foreach (var mirror in entry.Mirrors)
            {
                toml.ArrayTable(2, "registry.mirror");
                toml.Text(4, "location", mirror.Location);
                if (mirror.Insecure)
                {
                    toml.Flag(4, "insecure");
                }
                if (mirror.PullFromMirror.Length > 0)
                {
                    toml.Text(4, "pull-from-mirror", mirror.PullFromMirror);
                }
            }
        }
        return toml.ToUtf8();
    }

    /// <summary>The search-registries drop-in: an otherwise empty configuration (registries.md §2.7).</summary>
    public static byte[] EncodeSearchDropIn(IEnumerable<string> searchRegistries)
    {
        var toml = new TomlWriter();
        WriteTopLevel(toml, searchRegistries);
        return toml.ToUtf8();
    }

    private static void WriteTopLevel(TomlWriter toml, IEnumerable<string> searchRegistries)
    {
        toml.StringArray(0, "unqualified-search-registries", searchRegistries);
        toml.Text(0, "short-name-mode", "");
        toml.Text(0, "additional-layer-store-auth-helper", "");
    }
}
