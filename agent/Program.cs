using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using NodeAgent.Cluster;
using NodeAgent.Configuration;
using NodeAgent.Explain;
using NodeAgent.Hosting;
using NodeAgent.Logging;
using NodeAgent.Sync;

namespace NodeAgent;

/// <summary>Composition root: parse the mode, run it, turn the outcome into an exit code.</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        AgentOptions options;
        try
        {
            var commandLine = CommandLine.Parse(args);
            if (commandLine.Help)
            {
                Console.Out.WriteLine(CommandLine.Usage);
                return ExitCodes.Success;
            }
            if (commandLine.Version)
            {
                Console.Out.WriteLine($"node-agent {Version}");
                return ExitCodes.Success;
            }
            options = OptionsLoader.Load(commandLine, Environment.GetEnvironmentVariables());
            if (commandLine.Command == CommandLine.StatusCommand)
            {
                return StatusCommand.Run(options.Root, commandLine.Output, Console.Out, Console.Error, DateTimeOffset.UtcNow);
            }
            if (commandLine.Command == CommandLine.ExplainCommand)
            {
                // Reads files below the root and answers: no logging, cluster or signal handling.
                return await ExplainCommand.RunAsync(commandLine.Image!, options.Root, commandLine.Probe, commandLine.Output,
                    Console.Out, Console.Error, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.InvalidInput;
        }

        using var loggerFactory = CreateLoggerFactory(options);
        var logger = loggerFactory.CreateLogger("node-agent");
        var mode = options.Once ? (options.DryRun ? "once (dry run)" : "once") : "daemon";
        Log.Starting(logger, Version, mode, options.Root,
            options.ReloadCommand switch { null => "default", "" => "disabled", var command => command });

        using var stop = new CancellationTokenSource();
        using var terminate = StopOn(PosixSignal.SIGTERM, stop, logger);
        using var interrupt = StopOn(PosixSignal.SIGINT, stop, logger);

        if (options.Once && options.Manifests is not null)
        {
            return ExitCode(await new OnceRunner(options, null, logger, Console.Out, Console.Error).RunAsync(stop.Token).ConfigureAwait(false));
        }
        KubeClient client;
        try
        {
            var config = KubeConfig.Resolve(options.Kubeconfig, Environment.GetEnvironmentVariable);
            if (config is null)
            {
                Console.Error.WriteLine("error: cluster unreachable: no API server configured: give --kubeconfig, set KUBECONFIG, " +
                    "or run in a pod with a service account (KUBERNETES_SERVICE_HOST); node-agent never guesses localhost");
                return ExitCodes.ClusterUnreachable;
            }
            client = new KubeClient(config);
        }
        catch (KubeConfigException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.InvalidInput;
        }
        using (client)
        {
            if (options.Once)
            {
                return ExitCode(await new OnceRunner(options, client, logger, Console.Out, Console.Error).RunAsync(stop.Token).ConfigureAwait(false));
            }
            var notifier = SystemdNotifier.FromEnvironment(Environment.GetEnvironmentVariable);
            using var metrics = new AgentMetrics(Version);
            await new Daemon(options, client, logger, notifier, metrics).RunAsync(stop.Token).ConfigureAwait(false);
            Log.Stopped(logger);
            return ExitCodes.Success;
        }
    }

    private static int ExitCode(SyncOutcome outcome) => outcome switch
    {
        SyncOutcome.Applied or SyncOutcome.Unchanged or SyncOutcome.DryRun => ExitCodes.Success,
        SyncOutcome.InvalidInput => ExitCodes.InvalidInput,
        SyncOutcome.ClusterUnreachable => ExitCodes.ClusterUnreachable,
        _ => ExitCodes.RuntimeFailure,
    };

    // SIGTERM (systemd, kubelet) and SIGINT end the run the same way: the pass in progress
    // finishes and the process exits 0.
    private static PosixSignalRegistration StopOn(PosixSignal signal, CancellationTokenSource stop, ILogger logger) =>
        PosixSignalRegistration.Create(signal, context =>
        {
            context.Cancel = true;
            if (!stop.IsCancellationRequested)
            {
                var name = signal.ToString();
                Log.Stopping(logger, name);
                stop.Cancel();
            }
        });

    public static string Version { get; } =
        typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>
    /// Logs go to stderr: one line per message, with journald priority prefixes when systemd
    /// captures the output (JOURNAL_STREAM), so stdout carries only what a command produces.
    /// </summary>
    private static ILoggerFactory CreateLoggerFactory(AgentOptions options)
    {
        var level = Enum.Parse<LogLevel>(options.LogLevel, ignoreCase: true);
        var underJournal = Environment.GetEnvironmentVariable("JOURNAL_STREAM") is { Length: > 0 };
        return LoggerFactory.Create(builder =>
        {
            builder.SetMinimumLevel(level);
            // AddSimpleConsole and AddSystemdConsole each pick their formatter; only one may be added.
            if (underJournal)
            {
                builder.AddSystemdConsole(format => format.IncludeScopes = false);
            }
            else
            {
                builder.AddSimpleConsole(format =>
                {
                    format.SingleLine = true;
                    format.IncludeScopes = false;
                    format.ColorBehavior = LoggerColorBehavior.Disabled;
                });
            }
            builder.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
        });
    }
}
