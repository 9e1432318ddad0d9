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
    public const string ExplainCommand = "explain";
    public const string StatusCommand = "status";
    public const string OutputText = "text";
    public const string OutputJson = "json";

    /// <summary>The subcommand given as the first argument (<c>explain</c>), or null for the daemon and <c>--once</c>.</summary>
    public string? Command { get; init; }

    /// <summary><c>explain</c>'s IMAGE argument.</summary>
    public string? Image { get; init; }

    /// <summary><c>--probe</c>: <c>explain</c> connects to every endpoint it would contact.</summary>
    public bool Probe { get; init; }

    /// <summary>
    /// <c>--allow-empty</c>: <c>--once --manifests</c> renders even when PATH holds no image
    /// configuration object. Without it such a PATH is invalid input: a wrong or empty directory
    /// must never strip a node's mirrors and CAs.
    /// </summary>
    public bool AllowEmpty { get; init; }

    /// <summary><c>--output text|json</c>: the form of what a command prints on stdout. Default text.</summary>
    public string Output { get; init; } = OutputText;

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
        ["--runtime"] = nameof(AgentOptions.Runtime),
    };

    public const string Usage = """
        node-agent: renders the node's container registry configuration from OpenShift image objects.

        Usage:
          node-agent [options]                     daemon: list+watch the API server, apply every change
          node-agent --once --manifests PATH ...   render once from files, no cluster needed
          node-agent --once [options]              render once from the API server and exit
          node-agent status [--root DIR] [--output text|json]
                                                   what the last pass did on this node: result, files
                                                   and their hashes, last reload, CA expiry, warnings
          node-agent explain IMAGE [--root DIR] [--probe] [--output text|json]
                                                   where a pull of IMAGE goes on this node, and whether
                                                   it is allowed, as CRI-O/podman/skopeo decide it

        Options:
          --manifests PATH        file or directory (recursive) of *.yaml, *.yml, *.json manifests;
                                  multi-document YAML and kind: List are read
          --allow-empty           with --manifests: render even when PATH holds no image
                                  configuration object (then the base files); without it such a
                                  PATH is invalid input (exit 2), so a wrong path never strips a node
          --root DIR              host root; every path read or written is below it (default /)
          --release-image REF     release image for payload protection (overrides ClusterVersion)
          --reload-command CMD    run with /bin/sh -c after registries.conf, policy.json or the
                                  search drop-in changed; '' disables. Default: with --root /,
                                  'systemctl reload --job-mode=ignore-dependencies crio.service'
                                  when crio.service is active
          --health-command CMD    run after a reload; non-zero rolls back to the last good files
                                  (default with the default reload: systemctl is-active --quiet crio.service)
          --dry-run               write nothing; print a unified diff of every file that would change,
                                  then (on stderr) what it means: per registry where digest and tag
                                  pulls go before and after, search order, policy.json verdicts,
                                  trust, whether CRI-O reloads, and what MCO would have done
                                  (reload, drain, reboot); with --output json, one JSON document
          --config FILE           settings as JSON; command line > NODEAGENT_<Setting> > file > defaults
          --kubeconfig FILE       API server credentials; else KUBECONFIG; else the pod's service
                                  account; else exit 3 (never localhost)
          --node-name NAME        this node's name (default NODE_NAME, then the host name)
          --listen ADDR:PORT      daemon HTTP: /healthz, /readyz (200 once synced), /metrics
                                  (Prometheus text), e.g. 127.0.0.1:9101
          --log-level LEVEL       Trace, Debug, Information (default), Warning or Error
          --report-status         publish each pass on this node's Node: Events (applied, invalid
                                  input, rollback, failure, CA expiring in 30 and 7 days or expired)
                                  and the node-agent.io/status annotation; needs the optional RBAC
                                  (deploy/optional/status-rbac.yaml); off by default
          --runtime RUNTIME       crio (default), containerd or both: containerd writes
                                  etc/containerd/certs.d/<host[:port]>/hosts.toml (read on every
                                  pull, never reloaded) instead of registries.conf, policy.json and
                                  the drop-in; both writes all of them
          --output FORMAT         text (default) or json, for explain, status and --once --dry-run
          -h, --help              show this help
          --version               show the version

        explain IMAGE reads, below the root, etc/containers/registries.conf, its drop-ins in
        registries.conf.d/ (lexical order), var/cache/containers/short-name-aliases.conf,
        etc/containers/policy.json and the certs.d directories, and prints: for a short name its
        candidates (alias or unqualified-search registries); the [[registry]] that matches (longest
        prefix) and its file and line; the pull sources in order (eligible mirrors, then the
        primary; blocked ones are not contacted), the mirrors skipped and why; the certs.d
        directory of each host (etc/containers/certs.d/HOST hides etc/docker/certs.d/HOST); and
        the policy.json scope and verdict. IMAGE may omit docker.io/library/ and the tag (:latest).
          --probe                 also make a TLS connection to every endpoint that would be
                                  contacted (port 443 unless given; 5 s), trusting the system roots
                                  plus the host's certs.d CA files, or nothing for an insecure one
        Exit: 0 explained (whatever the verdict), 2 bad usage, an invalid IMAGE, registries.conf
        or policy.json, 1 a file could not be read.

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
        bool once = false, dryRun = false, help = false, version = false, probe = false, allowEmpty = false;
        string? manifests = null, configFile = null, image = null;
        var output = OutputText;
        var command = args.Count > 0 && args[0] is ExplainCommand or StatusCommand ? args[0] : null;
        for (var i = command is null ? 0 : 1; i < args.Count; i++)
        {
            var arg = args[i];
            if (command == StatusCommand && !arg.StartsWith('-'))
            {
                throw new UsageException($"{StatusCommand} takes no arguments; {Rendering.GoQuote.Quote(arg)} is one");
            }
            if (command is not null && !arg.StartsWith('-'))
            {
                image = image is null ? arg : throw new UsageException($"{command} takes one IMAGE; {Rendering.GoQuote.Quote(arg)} is a second one");
                continue;
            }
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
                case "--allow-empty": allowEmpty = Flag(arg, inlineValue); break;
                case "-h" or "--help": help = true; break;
                case "--version": version = true; break;
                case "--manifests": manifests = Value(args, ref i, arg, inlineValue); break;
                case "--config": configFile = Value(args, ref i, arg, inlineValue); break;
                case "--probe": probe = Flag(arg, inlineValue); break;
                case "--report-status": settings[nameof(AgentOptions.ReportStatus)] = Flag(arg, inlineValue) ? "true" : "false"; break;
                case "--output": output = OutputFormat(Value(args, ref i, arg, inlineValue)); break;
                default:
                    if (!ValueOptions.TryGetValue(arg, out var setting))
                    {
                        throw new UsageException($"unknown option {Rendering.GoQuote.Quote(args[i])}; see node-agent --help");
                    }
                    settings[setting] = Value(args, ref i, arg, inlineValue);
                    break;
            }
        }
        if (command == StatusCommand)
        {
            CheckStatus(probe, once, manifests, dryRun, settings);
        }
        else if (command is not null)
        {
            CheckExplain(image, help, once, manifests, dryRun, settings);
        }
        else if (probe)
        {
            throw new UsageException("--probe works with explain: node-agent explain IMAGE --probe");
        }
        else if (output == OutputJson && !(once && dryRun))
        {
            throw new UsageException("--output json works with explain, status and --once --dry-run; other runs only log");
        }
        return new CommandLine(settings, once, manifests, dryRun, configFile, help, version)
        {
            Command = command,
            Image = image,
            Probe = probe,
            Output = output,
            AllowEmpty = allowEmpty,
        };
    }

    private static string OutputFormat(string value) => value is OutputText or OutputJson
        ? value
        : throw new UsageException($"--output: {Rendering.GoQuote.Quote(value)} is not an output format; use {OutputText} or {OutputJson}");

    // explain reads the node; it takes the root (and settings that may set it), nothing that renders or watches.
    private static void CheckExplain(string? image, bool help, bool once, string? manifests, bool dryRun, Dictionary<string, string> settings)
    {
        var misplaced = new List<string>();
        if (once)
        {
            misplaced.Add("--once");
        }
        if (manifests is not null)
        {
            misplaced.Add("--manifests");
        }
        if (dryRun)
        {
            misplaced.Add("--dry-run");
        }
        misplaced.AddRange(ValueOptions.Where(o => o.Value != nameof(AgentOptions.Root) && settings.ContainsKey(o.Value)).Select(o => o.Key));
        if (misplaced.Count > 0)
        {
            throw new UsageException($"{ExplainCommand} does not take {string.Join(", ", misplaced)}; it takes IMAGE, --root, --probe, --output (and --config)");
        }
        if (image is null && !help)
        {
            throw new UsageException($"{ExplainCommand} needs an IMAGE, e.g. node-agent explain quay.io/team/app:v1; see node-agent --help");
        }
    }

    // status reads node-agent's own records below the root; like explain it renders and watches nothing.
    private static void CheckStatus(bool probe, bool once, string? manifests, bool dryRun, Dictionary<string, string> settings)
    {
        var misplaced = new[] { (once, "--once"), (manifests is not null, "--manifests"), (dryRun, "--dry-run"), (probe, "--probe") }
            .Where(o => o.Item1).Select(o => o.Item2)
            .Concat(ValueOptions.Where(o => o.Value != nameof(AgentOptions.Root) && settings.ContainsKey(o.Value)).Select(o => o.Key))
            .ToList();
        if (misplaced.Count > 0)
        {
            throw new UsageException($"{StatusCommand} does not take {string.Join(", ", misplaced)}; it takes --root and --output (and --config)");
        }
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
        // An option where the value should be is a forgotten value, not a value: taking it would
        // turn the option's own value into an "unknown option". A value that starts with -- is
        // still possible as --name=VALUE.
        if (args[i + 1].StartsWith("--", StringComparison.Ordinal))
        {
            throw new UsageException($"{name} needs a value, but {args[i + 1]} follows it; see node-agent --help (a value starting with -- is written {name}=VALUE)");
        }
        return args[++i];
    }
}
