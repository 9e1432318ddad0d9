namespace NodeAgent.Configuration;

/// <summary>What the command line asked for, before settings from file and environment are merged.</summary>
public sealed record CommandLine(
    IReadOnlyDictionary<string, string> Settings,
    bool Once,
    string? Manifests,
    bool DryRun,
    string? ConfigFile,
    bool Help,
    bool Version)
{
    // Options that take a value, mapped to the setting they set.
    private static readonly Dictionary<string, string> ValueOptions = new(StringComparer.Ordinal)
    {
        ["--root"] = nameof(AgentOptions.Root),
        ["--kubeconfig"] = nameof(AgentOptions.Kubeconfig),
        ["--node-name"] = nameof(AgentOptions.NodeName),
        ["--release-image"] = nameof(AgentOptions.ReleaseImage),
        ["--reload-command"] = nameof(AgentOptions.ReloadCommand),
        ["--health-command"] = nameof(AgentOptions.HealthCommand),
        ["--listen"] = nameof(AgentOptions.Listen),
        ["--log-level"] = nameof(AgentOptions.LogLevel),
    };

    public const string Usage = """
        node-agent: renders the node's container registry configuration from OpenShift image objects.

        Usage:
          node-agent [options]                     daemon: list+watch the API server, apply every change
          node-agent --once --manifests PATH ...   render once from files, no cluster needed
          node-agent --once [options]              render once from the API server and exit

        Options:
          --manifests PATH        file or directory (recursive) of *.yaml, *.yml, *.json manifests;
                                  multi-document YAML and kind: List are read
          --root DIR              host root; every path read or written is below it (default /)
          --release-image REF     release image for payload protection (overrides ClusterVersion)
          --reload-command CMD    run with /bin/sh -c after registries.conf, policy.json or the
                                  search drop-in changed; '' disables. Default: with --root /,
                                  'systemctl reload crio.service' when crio.service is active
          --health-command CMD    run after a reload; non-zero rolls back to the last good files
                                  (default with the default reload: systemctl is-active --quiet crio.service)
          --dry-run               write nothing; print a unified diff of every file that would change
          --config FILE           settings as JSON; command line > NODEAGENT_<Setting> > file > defaults
          --kubeconfig FILE       API server credentials; else KUBECONFIG; else the pod's service
                                  account; else exit 3 (never localhost)
          --node-name NAME        this node's name (default NODE_NAME, then the host name)
          --listen ADDR:PORT      daemon HTTP: /healthz, /readyz (200 once synced), /metrics
                                  (Prometheus text), e.g. 127.0.0.1:9101
          --log-level LEVEL       Trace, Debug, Information (default), Warning or Error
          -h, --help              show this help
          --version               show the version

        Files written below the root: etc/containers/registries.conf, etc/containers/policy.json,
        etc/containers/registries.conf.d/01-image-searchRegistries.conf (while the Image sets
        containerRuntimeSearchRegistries), etc/docker/certs.d/<host[:port]>/ca.crt for the
        additionalTrustedCA ConfigMap, and node-agent's state in var/lib/node-agent/.

        The daemon lists every kind, then watches; it renders only from a complete snapshot, keeps
        the files on invalid input, retries the API server with a jittered backoff capped at
        BackoffCapSeconds (10), and exits 0 on SIGTERM after the pass in progress. Under systemd
        (Type=notify) it sends READY=1 after the first attempt and logs with journal priorities.

        Exit codes: 0 success (also --dry-run), 1 runtime failure (I/O, reload failed and rolled
        back), 2 invalid input or usage (nothing below the root is touched), 3 cluster unreachable.
        """;

    public static CommandLine Parse(IReadOnlyList<string> args)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        bool once = false, dryRun = false, help = false, version = false;
        string? manifests = null, configFile = null;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string? inlineValue = null;
            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && equals > 0)
            {
                inlineValue = arg[(equals + 1)..];
                arg = arg[..equals];
            }
            switch (arg)
            {
                case "--once": once = Flag(arg, inlineValue); break;
                case "--dry-run": dryRun = Flag(arg, inlineValue); break;
                case "-h" or "--help": help = true; break;
                case "--version": version = true; break;
                case "--manifests": manifests = Value(args, ref i, arg, inlineValue); break;
                case "--config": configFile = Value(args, ref i, arg, inlineValue); break;
                default:
                    if (!ValueOptions.TryGetValue(arg, out var setting))
                    {
                        throw new UsageException($"unknown option {Rendering.GoQuote.Quote(args[i])}; see node-agent --help");
                    }
                    settings[setting] = Value(args, ref i, arg, inlineValue);
                    break;
            }
        }
        return new CommandLine(settings, once, manifests, dryRun, configFile, help, version);
    }

    private static bool Flag(string name, string? inlineValue) =>
        inlineValue is null ? true : throw new UsageException($"{name} takes no value");

    private static string Value(IReadOnlyList<string> args, ref int i, string name, string? inlineValue)
    {
        if (inlineValue is not null)
        {
            return inlineValue;
        }
        if (i + 1 >= args.Count)
        {
            throw new UsageException($"{name} needs a value; see node-agent --help");
        }
        return args[++i];
    }
}
