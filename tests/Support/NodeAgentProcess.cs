using System.Diagnostics;

namespace NodeAgent.Tests.Support;

public sealed record ProcessResult(int ExitCode, string Stdout, string Stderr)
{
    public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>Runs the built <c>bin/node-agent</c>, or another program, as a user would, with a deadline.</summary>
public static class NodeAgentProcess
{
    public static ProcessResult Run(IEnumerable<string> args, IDictionary<string, string>? environment = null, TimeSpan? timeout = null) =>
        Execute(RepoPaths.Binary, args.ToList(), AgentEnvironment(environment), timeout);

    /// <summary>
    /// The environment for a node-agent under test: its own settings and anything that would pick
    /// a cluster or a systemd connection come only from what the test passes (null removes).
    /// </summary>
    public static Dictionary<string, string?> AgentEnvironment(IDictionary<string, string>? environment)
    {
        var effective = System.Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k.StartsWith("NODEAGENT_", StringComparison.OrdinalIgnoreCase)
                || k is "JOURNAL_STREAM" or "NOTIFY_SOCKET" or "WATCHDOG_USEC" or "WATCHDOG_PID" or "KUBECONFIG" or "KUBERNETES_SERVICE_HOST")
            .ToDictionary(k => k, _ => (string?)null);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            effective[key] = value;
        }
        return effective;
    }

    /// <summary>Runs another node-agent build (the published one) with the same environment rules as <see cref="Run"/>.</summary>
    public static ProcessResult RunBinary(string binary, IEnumerable<string> args, IDictionary<string, string>? environment = null, TimeSpan? timeout = null) =>
        Execute(binary, args.ToList(), AgentEnvironment(environment), timeout);

    public static ProcessResult RunProgram(string program, IEnumerable<string> args) =>
        Execute(program, args.ToList(), new Dictionary<string, string?>(), null);

    /// <summary>Runs <paramref name="program"/>; an environment entry with a null value removes that variable.</summary>
    public static ProcessResult Execute(string program, IReadOnlyList<string> args, IReadOnlyDictionary<string, string?> environment, TimeSpan? timeout = null)
    {
        var info = StartInfo(program, args, environment);
        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in time");
        }
        return new ProcessResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Every stream redirected; an environment entry with a null value removes that variable.</summary>
    public static ProcessStartInfo StartInfo(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string?> environment)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in environment)
        {
            if (value is null)
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }
        return info;
    }
}
