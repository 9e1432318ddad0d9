using System.Text;
using NodeAgent.Consumer;
using NodeAgent.Rendering;

namespace NodeAgent.Impact;

/// <summary>The files a dry run compares: the three runtime files, and the CA files that would change.</summary>
public sealed record ImpactInputs(FileVersions RegistriesConf, FileVersions PolicyJson, FileVersions SearchDropIn, IReadOnlyList<FileVersions> CaFiles)
{
    /// <summary>containerd's hosts.toml files that would change: listed, never a reason to reload.</summary>
    public IReadOnlyList<FileVersions> ContainerdFiles { get; init; } = [];

    /// <summary>False with <c>--runtime containerd</c>: CRI-O is not reloaded whatever changes.</summary>
    public bool ReloadsCrio { get; init; } = true;

    /// <summary>True with <c>--reload-command ''</c>: a reload the change needs is not run.</summary>
    public bool ReloadDisabled { get; init; }
}

/// <summary>
/// Turns a dry run's before and after files into an <see cref="ImpactReport"/>. Pure: the files
/// are read by the caller. A file on disk that does not parse is noted, never an error: the dry
/// run still shows its diff.
/// </summary>
public static class ImpactForecast
{
    public static ImpactReport Compute(ImpactInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var notes = new List<string>();
        var registries = inputs.RegistriesConf;
        var dropIn = inputs.SearchDropIn;
        var oldMain = Parse(registries.Before, registries.Path, "current", notes);
        var newMain = Parse(registries.After, registries.Path, "rendered", notes);
        var scopes = registries.Changed && oldMain is not null && newMain is not null
            ? PullImpact.Compare(ToModel(oldMain), ToModel(newMain))
            : [];

        var oldSearch = SearchOrder(oldMain, Parse(dropIn.Before, dropIn.Path, "current", notes));
        var newSearch = SearchOrder(newMain, Parse(dropIn.After, dropIn.Path, "rendered", notes));
        var runtimeFiles = new[] { registries, inputs.PolicyJson, dropIn };
        return new ImpactReport
        {
            Files = [.. inputs.CaFiles.Where(f => f.Changed), .. inputs.ContainerdFiles.Where(f => f.Changed), .. runtimeFiles.Where(f => f.Changed)],
            Scopes = scopes,
            Search = oldSearch.SequenceEqual(newSearch) ? null : new SearchChange(oldSearch, newSearch),
            Policy = inputs.PolicyJson.Changed ? PolicyImpact.Compare(inputs.PolicyJson.Before, inputs.PolicyJson.After) : [],
            Trust = [.. inputs.CaFiles.Where(f => f.Changed).Select(f => new TrustChange(HostOf(f.Path), f.Path, f.Change))],
            // policy.json is read on every pull; only registries.conf and its drop-ins need a reload.
            ReloadBecause = inputs.ReloadsCrio ? [.. new[] { registries, dropIn }.Where(f => f.Changed).Select(f => f.Path)] : [],
            ReloadDisabled = inputs.ReloadDisabled,
            Mco = McoForecast.Decide(dropIn.Changed, registries.Changed, inputs.PolicyJson.Changed,
                oldMain is null ? null : ToModel(oldMain), newMain is null ? null : ToModel(newMain)),
            Notes = notes,
        };
    }

    private static RegistriesConfFile? Parse(byte[]? content, string path, string which, List<string> notes)
    {
        if (content is null)
        {
            return null;
        }
        try
        {
            return RegistriesConfReader.Parse(Encoding.UTF8.GetString(content), path);
        }
        catch (RegistriesConfException e)
        {
            notes.Add($"the {which} {path} could not be read, so its entries are not compared: {e.Message}");
            return null;
        }
    }

    private static RegistriesConf ToModel(RegistriesConfFile file)
    {
        var model = new RegistriesConf();
        model.UnqualifiedSearchRegistries.AddRange(file.UnqualifiedSearchRegistries ?? []);
        model.Registries.AddRange(file.Registries);
        return model;
    }

    // containers/image: a drop-in that sets the key replaces the main file's list.
    private static IReadOnlyList<string> SearchOrder(RegistriesConfFile? main, RegistriesConfFile? dropIn) =>
        dropIn?.UnqualifiedSearchRegistries ?? main?.UnqualifiedSearchRegistries ?? [];

    // etc/docker/certs.d/<host[:port]>/ca.crt: the directory names the registry.
    private static string HostOf(string path) => Path.GetFileName(Path.GetDirectoryName(path)) ?? path;
}
