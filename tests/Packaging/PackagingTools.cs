using System.Globalization;
using System.Text.RegularExpressions;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Packaging;

/// <summary>
/// The packaging tools (rpm, rpmlint, systemd-analyze) and the artifacts of <c>make rpm</c>. A
/// missing tool skips the test naming the package to install, and fails it with <c>CI=true</c>
/// (<see cref="Requires"/>), so these checks cannot vanish from CI because a package was not
/// installed. A missing RPM is a failure naming what to run: <c>make test</c> builds it first.
/// </summary>
internal static partial class PackagingTools
{
    private static readonly Dictionary<string, string> DebianPackageOf = new(StringComparer.Ordinal)
    {
        ["rpm"] = "rpm",
        ["rpmbuild"] = "rpm",
        ["rpmlint"] = "rpmlint",
        ["systemd-analyze"] = "systemd",
        ["cp"] = "coreutils",
    };

    public static string UnitFile => Path.Join(RepoPaths.Root, "systemd", "node-agent.service");

    public static string ConfigFile => Path.Join(RepoPaths.Root, "systemd", "config.json");

    public static string SpecFile => Path.Join(RepoPaths.Root, "rpm", "node-agent.spec");

    public static string RpmlintConfig => Path.Join(RepoPaths.Root, "rpm", "node-agent.rpmlintrc");

    public static string PublishDirectory => Path.Join(RepoPaths.Root, "dist", "publish", "linux-x64");

    /// <summary>The &lt;Version&gt; of agent/NodeAgent.csproj, which names the package.</summary>
    public static string Version { get; } = VersionElement().Match(File.ReadAllText(Path.Join(RepoPaths.Root, "agent", "NodeAgent.csproj"))).Groups[1].Value;

    /// <summary><c>NODE_AGENT_RPM</c> (set by <c>make test</c>), else where <c>make rpm</c> writes it.</summary>
    public static string Rpm
    {
        get
        {
            var path = Environment.GetEnvironmentVariable("NODE_AGENT_RPM") is { Length: > 0 } env
                ? env
                : Path.Join(RepoPaths.Root, "dist", "rpm", "RPMS", "x86_64", $"node-agent-{Version}-1.x86_64.rpm");
            return File.Exists(path)
                ? path
                : throw new InvalidOperationException($"{path} does not exist: run 'make rpm' (or 'make test', which builds it first)");
        }
    }

    public static ProcessResult Run(string tool, params string[] args)
    {
        Require(tool);
        // A fixed locale keeps the tools' messages as the tests expect them.
        return NodeAgentProcess.Execute(tool, args, new Dictionary<string, string?> { ["LC_ALL"] = "C.UTF-8" }, TimeSpan.FromMinutes(2));
    }

    /// <summary>Runs the tool and fails with its whole output unless it exits 0.</summary>
    public static string RunOk(string tool, params string[] args)
    {
        var result = Run(tool, args);
        return result.ExitCode == 0
            ? result.Stdout
            : throw new InvalidOperationException($"{tool} {string.Join(' ', args)}: {result}");
    }

    /// <summary>Skips the test (fails it with <c>CI=true</c>) when <paramref name="tool"/> is not on PATH.</summary>
    public static void Require(string tool) => Requires.Tool(tool, DebianPackageOf[tool]);

    /// <summary>Null when <paramref name="tool"/> is on PATH, else the reason to skip, naming its package.</summary>
    public static string? Missing(string tool) => Requires.ToolMissing(tool, DebianPackageOf[tool]);

    /// <summary>
    /// A scratch system root holding this machine's systemd units (systemd-analyze resolves
    /// dependencies such as multi-user.target there) and <c>/lib</c> as on a merged-/usr host.
    /// </summary>
    public static void AddHostSystemdUnits(string root)
    {
        var units = Path.Join(root, "usr", "lib", "systemd", "system");
        Directory.CreateDirectory(units);
        foreach (var entry in new DirectoryInfo("/usr/lib/systemd/system").EnumerateFileSystemInfos())
        {
            var target = Path.Join(units, entry.Name);
            if (entry.Name == "node-agent.service" || Path.Exists(target))
            {
                continue;
            }
            if (entry.LinkTarget is { } link)
            {
                File.CreateSymbolicLink(target, link);
            }
            else if (entry is FileInfo file)
            {
                file.CopyTo(target);
            }
        }
        if (!Path.Exists(Path.Join(root, "lib")))
        {
            File.CreateSymbolicLink(Path.Join(root, "lib"), "usr/lib");
        }
    }

    /// <summary>The figure of <c>→ Overall exposure level for node-agent.service: 1.6 OK</c>.</summary>
    public static double ExposureOf(string securityOutput)
    {
        var match = ExposureLine().Match(securityOutput);
        return match.Success
            ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"no overall exposure level in:\n{securityOutput}");
    }

    [GeneratedRegex(@"<Version>([^<]+)</Version>")]
    private static partial Regex VersionElement();

    [GeneratedRegex(@"Overall exposure level for \S+: ([0-9]+\.[0-9]+)")]
    private static partial Regex ExposureLine();
}
