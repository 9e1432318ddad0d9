namespace NodeAgent.Tests.Support;

/// <summary>
/// Runs skopeo (containers/image) as if a rendered node root were the machine: inside a private
/// mount namespace, <c>ROOT/etc/containers</c> is bind-mounted over <c>/etc/containers</c>,
/// <c>ROOT/etc/docker/certs.d</c> over <c>/etc/docker/certs.d</c> and <c>ROOT/etc/containerd/certs.d</c>
/// over <c>/etc/containerd/certs.d</c> (each when the root has it), so registries.conf, policy.json,
/// both certs.d trees and containerd's hosts.toml files are read at their real default paths,
/// exactly as CRI-O (or containerd, <see cref="RunProgram"/>) reads them. The
/// network is the host's (a registry on the host loopback must be reachable), so name resolution
/// is pinned to loopback instead.
/// </summary>
/// <remarks>
/// <para>Nothing of the host is modified. Mount points cannot be created in the host's
/// <c>/etc</c> (it has no <c>/etc/docker/certs.d</c>, and may lack <c>/etc/docker</c>), so
/// <c>/etc</c> itself is replaced, in the namespace only, by a scratch <em>view</em>: every host
/// entry appears there as a symbolic link into a recursive bind mount of the real <c>/etc</c>
/// (symbolic links are copied as they are, so relative ones still resolve), except:</para>
/// <list type="bullet">
/// <item><c>containers/</c>, <c>docker/certs.d/</c> and <c>containerd/certs.d/</c>: mount points for
/// the rendered root (<c>/etc/docker</c> and <c>/etc/containerd</c> hold nothing else; each
/// <c>certs.d</c> is absent when the root has none);</item>
/// <item><c>resolv.conf</c>: <c>nameserver 127.0.0.1</c>, so a lookup of a source host (tried when
/// every mirror fails) can never leave the machine; and <c>nsswitch.conf</c>: files, then that
/// DNS, with no other resolver module.</item>
/// </list>
/// <para><c>/var/lib</c> gets the same treatment with a scratch <c>containers/</c>: as root,
/// <c>skopeo copy</c> creates <c>/var/lib/containers/cache/blob-info-cache-v1.boltdb</c>
/// (checked: it does, even when it has to create the directories).</para>
/// <para><c>HOME</c>, <c>XDG_RUNTIME_DIR</c>, <c>XDG_CONFIG_HOME</c> and <c>TMPDIR</c> are scratch
/// directories (so <c>~/.config/containers/certs.d</c>, the first certs.d candidate, does not
/// exist, and no credentials are found), and every variable that could redirect configuration,
/// credentials, the system CA pool or a proxy is removed.</para>
/// <para>The namespace ends with skopeo, taking every mount with it; the scratch directories hold
/// no mounts in the test's own namespace, which <see cref="Dispose"/> checks before deleting.</para>
/// </remarks>
public sealed class NodeRootSkopeo : IDisposable
{
    // $0 = scratch, $1 = rendered root, "$@" = skopeo and its arguments.
    private const string MountScript = """
        set -eu
        scratch=$0
        root=$1
        shift
        mount --rbind /etc "$scratch/host-etc"
        mount --rbind /var/lib "$scratch/host-var-lib"
        mount --bind "$scratch/etc" /etc
        mount --bind "$scratch/var-lib" /var/lib
        for dir in containers docker/certs.d containerd/certs.d; do
          if [ -d "/etc/$dir" ] && [ -d "$root/etc/$dir" ]; then
            mount --bind "$root/etc/$dir" "/etc/$dir"
          fi
        done
        exec "$@"
        """;

    private static readonly string[] EtcOverrides = ["containers", "docker", "containerd", "resolv.conf", "nsswitch.conf"];

    // Mount points in the view that exist exactly when the root has the directory.
    private static readonly string[] OptionalMounts = ["etc/docker/certs.d", "etc/containerd/certs.d"];

    private static readonly Lazy<string?> LazyUnavailable = new(Probe);

    private readonly string _root;
    private readonly TempRoot _scratch = new("node-root-skopeo");

    public NodeRootSkopeo(string root)
    {
        _root = root;
        foreach (var dir in new[] { "home", "run", "tmp", "host-etc", "host-var-lib", "etc/containers", "etc/docker", "etc/containerd", "var-lib/containers", "out" })
        {
            Directory.CreateDirectory(_scratch.File(dir));
        }
        BuildView("/etc", _scratch.File("etc"), "host-etc", EtcOverrides);
        BuildView("/var/lib", _scratch.File("var-lib"), "host-var-lib", ["containers"]);
        File.WriteAllText(_scratch.File("etc/resolv.conf"), "nameserver 127.0.0.1\noptions attempts:1 timeout:1\n");
        File.WriteAllText(_scratch.File("etc/nsswitch.conf"), "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n");
    }

    /// <summary>Null when this machine can run the namespace, else why not (the skip reason).</summary>
    public static string? Unavailable => LazyUnavailable.Value;

    /// <summary>A path for skopeo's output (an <c>oci:</c> destination), outside the rendered root.</summary>
    public string Output(string name) => _scratch.File(System.IO.Path.Join("out", name));

    /// <summary><c>skopeo --debug --command-timeout 20s ARGS</c> in the namespace, against the root as it is now.</summary>
    public ProcessResult Run(params string[] skopeoArgs)
    {
        var skopeo = SkopeoSandbox.SkopeoPath ?? throw new InvalidOperationException("skopeo is not installed");
        return RunProgram([skopeo, "--debug", "--command-timeout", "20s", .. skopeoArgs], TimeSpan.FromSeconds(30));
    }

    /// <summary>
    /// Any other client (containerd's <c>ctr</c>) in the same namespace, so it too reads the root's
    /// <c>etc/containerd/certs.d</c> and the CA files its hosts.toml names at their real paths.
    /// <paramref name="withoutNetwork"/> adds a network namespace with no interface up: every
    /// connection fails at once and nothing can leave the machine, not even to loopback.
    /// </summary>
    public ProcessResult RunProgram(IReadOnlyList<string> command, TimeSpan timeout, bool withoutNetwork = false)
    {
        foreach (var mount in OptionalMounts)
        {
            var mountPoint = _scratch.File(mount);
            if (Directory.Exists(System.IO.Path.Join(_root, mount)))
            {
                Directory.CreateDirectory(mountPoint);
            }
            else if (Directory.Exists(mountPoint))
            {
                Directory.Delete(mountPoint);
            }
        }
        return InNamespace(_scratch.Path, _root, command, Environment(), timeout, withoutNetwork);
    }

    public void Dispose()
    {
        // Deleting recursively through a live bind mount of /etc would delete the host's files.
        var mounted = File.ReadLines("/proc/self/mountinfo")
            .Select(line => line.Split(' ')[4])
            .Where(point => point.StartsWith(_scratch.Path + "/", StringComparison.Ordinal) || point == _scratch.Path)
            .ToList();
        if (mounted.Count > 0)
        {
            throw new InvalidOperationException($"not deleting {_scratch.Path}: mount points below it: {string.Join(", ", mounted)}");
        }
        _scratch.Dispose();
    }

    private static ProcessResult InNamespace(string scratch, string root, IEnumerable<string> command, IReadOnlyDictionary<string, string?> environment, TimeSpan timeout, bool withoutNetwork = false)
    {
        List<string> args = [.. IsRoot() ? [] : new[] { "--map-root-user" }, .. withoutNetwork ? new[] { "--net" } : [], "--mount", "--propagation", "private", "--", "/bin/sh", "-c", MountScript, scratch, root, .. command];
        return NodeAgentProcess.Execute("unshare", args, environment, timeout);
    }

    private Dictionary<string, string?> Environment()
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["HOME"] = _scratch.File("home"),
            ["XDG_RUNTIME_DIR"] = _scratch.File("run"),
            ["XDG_CONFIG_HOME"] = _scratch.File("home/.config"),
            ["XDG_DATA_HOME"] = _scratch.File("home/.local/share"),
            ["TMPDIR"] = _scratch.File("tmp"),
        };
        foreach (var name in new[]
                 {
                     "REGISTRY_AUTH_FILE", "DOCKER_CONFIG", "CONTAINERS_CONF", "CONTAINERS_REGISTRIES_CONF", "CONTAINERS_STORAGE_CONF",
                     "SSL_CERT_FILE", "SSL_CERT_DIR", "GODEBUG", "_CONTAINERS_ROOTLESS_UID", "_CONTAINERS_USERNS_CONFIGURED",
                     "http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
                 })
        {
            environment[name] = null;
        }
        return environment;
    }

    // Every entry of the host directory as a link into its bind mount; symbolic links as they are.
    private void BuildView(string hostDirectory, string view, string bindMountName, IReadOnlyCollection<string> overrides)
    {
        foreach (var entry in new DirectoryInfo(hostDirectory).EnumerateFileSystemInfos())
        {
            if (overrides.Contains(entry.Name))
            {
                continue;
            }
            var link = System.IO.Path.Join(view, entry.Name);
            File.CreateSymbolicLink(link, entry.LinkTarget ?? System.IO.Path.Join(_scratch.Path, bindMountName, entry.Name));
        }
    }

    // The exact wrapper, on an empty root, must see its own view and not the host's files.
    private static string? Probe()
    {
        using var root = new TempRoot("node-root-skopeo-probe");
        Directory.CreateDirectory(root.File("etc/containers"));
        File.WriteAllText(root.File("etc/containers/probe"), "");
        using var sandbox = new NodeRootSkopeo(root.Path);
        try
        {
            var result = InNamespace(sandbox._scratch.Path, root.Path,
                ["/bin/sh", "-c", "test -f /etc/containers/probe && test ! -e /etc/docker/certs.d && grep -qx 'nameserver 127.0.0.1' /etc/resolv.conf"],
                new Dictionary<string, string?>(), TimeSpan.FromSeconds(10));
            return result.ExitCode == 0 ? null : $"a private mount namespace with /etc replaced is not available here ({result.Stderr.Trim()})";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"unshare cannot be run: {e.Message}";
        }
    }

    private static bool IsRoot() =>
        File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal))
            ?.Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(2) == "0";
}
