using System.Diagnostics;
using System.Text.RegularExpressions;

namespace NodeAgent.Tests.Support;

/// <summary>How a <see cref="SkopeoSandbox"/> keeps skopeo to the files under test.</summary>
public enum SkopeoIsolation
{
    /// <summary>
    /// A private mount and network namespace (<c>unshare</c>, with <c>--map-root-user</c> when not
    /// root): a scratch directory is bind-mounted over <c>/etc/containers</c>, so skopeo reads
    /// <c>/etc/containers/registries.conf</c>, <c>registries.conf.d/</c> and <c>policy.json</c> by
    /// their real default paths, exactly as CRI-O does, and the namespace has no usable network
    /// interface at all (not even loopback is up), so nothing can leave the machine.
    /// </summary>
    Namespaces,

    /// <summary>
    /// Fallback when namespaces are unavailable: the files go to a scratch
    /// <c>$HOME/.config/containers/</c>. containers/image then reads the per-user
    /// <c>registries.conf</c> and only the per-user <c>registries.conf.d</c> (never
    /// <c>/etc/containers/registries.conf.d</c>), and prefers the per-user <c>policy.json</c>:
    /// the same parser and merge code, different paths. The network is not isolated, so only
    /// probes of the closed port <c>127.0.0.1:1</c> are run.
    /// </summary>
    PerUserConfig,
}

/// <summary>What one skopeo run said: its exit code, the files it loaded, and its non-debug output.</summary>
public sealed partial record SkopeoResult(int ExitCode, string Stderr, IReadOnlyList<string> LoadedRegistriesFiles, string Errors)
{
    public static SkopeoResult From(ProcessResult process)
    {
        var loaded = new List<string>();
        var errors = new List<string>();
        foreach (var line in process.StderrLines)
        {
            if (!line.Contains("level=debug", StringComparison.Ordinal))
            {
                errors.Add(Unescape(line));
                continue;
            }
            var match = LoadingLine().Match(line);
            if (match.Success)
            {
                loaded.Add(Unescape(match.Groups["path"].Value));
            }
        }
        return new SkopeoResult(process.ExitCode, process.Stderr, loaded, string.Join('\n', errors));
    }

    public override string ToString() => $"exit {ExitCode}\n--- stderr\n{Stderr}";

    // logrus quotes msg="…" and escapes the quotes inside it as \".
    private static string Unescape(string text) => text.Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);

    [GeneratedRegex("msg=\"Loading registries configuration \\\\\"(?<path>.*)\\\\\"\"", RegexOptions.CultureInvariant)]
    private static partial Regex LoadingLine();
}

/// <summary>
/// Runs the real consumer, skopeo (containers/image), on a given registries.conf, optional
/// search drop-in and optional policy.json, with nothing of the machine's own containers
/// configuration, credentials or network in the way.
/// </summary>
/// <remarks>
/// Why not just <c>skopeo --registries-conf FILE</c>: an explicit main file does not stop
/// containers/image from also reading <c>/etc/containers/registries.conf.d</c>
/// (containers-image.md §3.1), so the machine's drop-ins (Debian ships <c>shortnames.conf</c>)
/// would be merged over the file under test, and our own drop-in could not be tested at its real
/// location. <c>CONTAINERS_REGISTRIES_CONF</c> is not read by skopeo 1.9 at all (checked: it
/// ignores it), and skopeo 1.9 has no flag for the drop-in directory (<c>--registries.d</c> is the
/// signature-lookaside directory, unrelated). A private mount namespace is therefore the most
/// faithful choice; the per-user configuration is the fallback. Either way every run passes
/// <c>--debug</c>, whose <c>Loading registries configuration "…"</c> lines say exactly which files
/// were read, so each test can assert the isolation instead of trusting it.
/// </remarks>
public sealed class SkopeoSandbox : IDisposable
{
    public const string DropInName = "01-image-searchRegistries.conf";

    /// <summary>A closed port on loopback: a valid configuration ends in a connection error there.</summary>
    public const string ClosedLocalReference = "127.0.0.1:1/consumer-check/probe:latest";

    private static readonly Lazy<string?> LazySkopeo = new(FindSkopeo);
    private static readonly Lazy<SkopeoIsolation> LazyIsolation = new(DetectIsolation);

    private readonly TempRoot _scratch = new("skopeo-sandbox");
    private readonly string _configDir;
    private readonly string _home;

    public SkopeoSandbox(string registriesConf, string? dropIn = null, string? policyJson = null)
    {
        _home = _scratch.File("home");
        Directory.CreateDirectory(_home);
        Directory.CreateDirectory(_scratch.File("run"));
        Directory.CreateDirectory(_scratch.File("tmp"));
        _configDir = Isolation == SkopeoIsolation.Namespaces
            ? _scratch.File("etc-containers")
            : Path.Join(_home, ".config", "containers");
        Directory.CreateDirectory(Path.Join(_configDir, "registries.conf.d"));
        File.WriteAllText(Path.Join(_configDir, "registries.conf"), registriesConf);
        if (dropIn is not null)
        {
            File.WriteAllText(Path.Join(_configDir, "registries.conf.d", DropInName), dropIn);
        }
        if (policyJson is not null)
        {
            File.WriteAllText(Path.Join(_configDir, "policy.json"), policyJson);
        }
        HasDropIn = dropIn is not null;
    }

    /// <summary>The skopeo binary, or null when it is not installed.</summary>
    public static string? SkopeoPath => LazySkopeo.Value;

    public static SkopeoIsolation Isolation => LazyIsolation.Value;

    /// <summary>True when skopeo runs without any network, so references on real host names are safe to probe.</summary>
    public static bool NetworkIsolated => Isolation == SkopeoIsolation.Namespaces;

    public bool HasDropIn { get; }

    /// <summary>The main file as skopeo sees it (for the loaded-files assertion and its messages).</summary>
    public string MainPath => Isolation == SkopeoIsolation.Namespaces
        ? "/etc/containers/registries.conf"
        : Path.Join(_configDir, "registries.conf");

    public string DropInPath => Isolation == SkopeoIsolation.Namespaces
        ? "/etc/containers/registries.conf.d/" + DropInName
        : Path.Join(_configDir, "registries.conf.d", DropInName);

    /// <summary>The registries files skopeo must have read, in order, and nothing else.</summary>
    public IReadOnlyList<string> ExpectedLoadedFiles => HasDropIn ? [MainPath, DropInPath] : [MainPath];

    /// <summary>
    /// <c>skopeo inspect --no-tags docker://REF</c>: resolves REF through registries.conf (load,
    /// blocked check, mirror rewriting) before the first connection attempt.
    /// </summary>
    public SkopeoResult Inspect(string reference)
    {
        if (!NetworkIsolated && !reference.StartsWith("127.0.0.1:", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"refusing to probe {reference} without network isolation");
        }
        return Run(["inspect", "--no-tags", "docker://" + reference]);
    }

    /// <summary>
    /// <c>skopeo copy docker://127.0.0.1:1/… dir:…</c>: loads the trust policy (the default
    /// policy.json of the sandbox) before it touches the source.
    /// </summary>
    public SkopeoResult CopyFromClosedPort() =>
        Run(["copy", "docker://" + ClosedLocalReference, "dir:" + _scratch.File("tmp/copy-target")]);

    public void Dispose() => _scratch.Dispose();

    private SkopeoResult Run(IReadOnlyList<string> skopeoArgs)
    {
        var skopeo = SkopeoPath ?? throw new InvalidOperationException("skopeo is not installed");
        var args = new List<string>();
        string program;
        if (Isolation == SkopeoIsolation.Namespaces)
        {
            program = "unshare";
            args.AddRange(UnshareArgs());
            args.Add(_configDir);
            args.Add(skopeo);
        }
        else
        {
            program = skopeo;
        }
        args.AddRange(["--debug", "--command-timeout", "30s"]);
        args.AddRange(skopeoArgs);
        return SkopeoResult.From(NodeAgentProcess.Execute(program, args, Environment()));
    }

    // Everything that could point containers/image at other configuration, credentials or a proxy.
    private Dictionary<string, string?> Environment() => new(StringComparer.Ordinal)
    {
        ["HOME"] = _home,
        ["XDG_RUNTIME_DIR"] = _scratch.File("run"),
        ["XDG_CONFIG_HOME"] = Path.Join(_home, ".config"),
        ["TMPDIR"] = _scratch.File("tmp"),
        ["REGISTRY_AUTH_FILE"] = null,
        ["DOCKER_CONFIG"] = null,
        ["CONTAINERS_CONF"] = null,
        ["CONTAINERS_REGISTRIES_CONF"] = null,
        ["CONTAINERS_STORAGE_CONF"] = null,
        ["http_proxy"] = null,
        ["https_proxy"] = null,
        ["all_proxy"] = null,
        ["HTTP_PROXY"] = null,
        ["HTTPS_PROXY"] = null,
        ["ALL_PROXY"] = null,
    };

    // sh -c '…' $0=<dir to mount> "$@"=<skopeo and its arguments>
    private static List<string> UnshareArgs()
    {
        var args = new List<string>();
        if (!IsRoot())
        {
            args.Add("--map-root-user");
        }
        args.AddRange(["--mount", "--net", "--propagation", "private", "--", "/bin/sh", "-c", "mount --bind \"$0\" /etc/containers && exec \"$@\""]);
        return args;
    }

    // NODE_AGENT_SKOPEO names the binary (a missing path counts as not installed).
    private static string? FindSkopeo()
    {
        if (System.Environment.GetEnvironmentVariable("NODE_AGENT_SKOPEO") is { Length: > 0 } explicitPath)
        {
            return File.Exists(explicitPath) ? explicitPath : null;
        }
        return Requires.OnPath("skopeo");
    }

    private static bool IsRoot() =>
        File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal))
            ?.Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(2) == "0";

    // The namespace is usable when the exact wrapper the tests use can bind-mount over
    // /etc/containers (which must exist) and run a program.
    // NODE_AGENT_SKOPEO_ISOLATION=PerUserConfig forces the fallback, to test it on a machine
    // that has namespaces.
    private static SkopeoIsolation DetectIsolation()
    {
        if (Enum.TryParse<SkopeoIsolation>(System.Environment.GetEnvironmentVariable("NODE_AGENT_SKOPEO_ISOLATION"), out var forced))
        {
            return forced;
        }
        if (!Directory.Exists("/etc/containers"))
        {
            return SkopeoIsolation.PerUserConfig;
        }
        using var probe = new TempRoot("skopeo-sandbox-probe");
        try
        {
            var args = UnshareArgs();
            args.AddRange([probe.Path, "/bin/sh", "-c", "test -z \"$(ls -A /etc/containers)\""]);
            var result = NodeAgentProcess.Execute("unshare", args, new Dictionary<string, string?>());
            return result.ExitCode == 0 ? SkopeoIsolation.Namespaces : SkopeoIsolation.PerUserConfig;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return SkopeoIsolation.PerUserConfig;
        }
    }
}
