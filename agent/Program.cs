using System.Reflection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using NodeAgent.Configuration;
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
            if (!options.Once || options.Manifests is null)
            {
                throw new UsageException(
                    "reading from the API server (the daemon, and --once without --manifests) is not part of this version; " +
                    "use --once --manifests PATH");
            }
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.InvalidInput;
        }

        using var loggerFactory = CreateLoggerFactory(options);
        var logger = loggerFactory.CreateLogger("node-agent");
        Log.Starting(logger, Version, options.DryRun ? "once (dry run)" : "once", options.Root,
            options.ReloadCommand switch { null => "default", "" => "disabled", var command => command });
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        var outcome = await new OnceRunner(options, logger, Console.Out, Console.Error).RunAsync(stop.Token).ConfigureAwait(false);
        return outcome switch
        {
            SyncOutcome.Applied or SyncOutcome.Unchanged or SyncOutcome.DryRun => ExitCodes.Success,
            SyncOutcome.InvalidInput => ExitCodes.InvalidInput,
            _ => ExitCodes.RuntimeFailure,
        };
    }

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
            builder.AddConsole(console =>
            {
                console.LogToStandardErrorThreshold = LogLevel.Trace;
                console.FormatterName = underJournal ? ConsoleFormatterNames.Systemd : ConsoleFormatterNames.Simple;
            });
            builder.AddSimpleConsole(format =>
            {
                format.SingleLine = true;
                format.IncludeScopes = false;
                format.ColorBehavior = LoggerColorBehavior.Disabled;
            });
        });
    }
}
