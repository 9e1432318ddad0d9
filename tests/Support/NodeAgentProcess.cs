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
    public static ProcessResult Run(IEnumerable<string> args, IDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        // The agent's own settings must come only from what a test passes.
        var effective = System.Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k.StartsWith("NODEAGENT_", StringComparison.OrdinalIgnoreCase) || k == "JOURNAL_STREAM")
            .ToDictionary(k => k, _ => (string?)null);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            effective[key] = value;
        }
        return Execute(RepoPaths.Binary, args.ToList(), effective, timeout);
    }

    public static ProcessResult RunProgram(string program, IEnumerable<string> args) =>
        Execute(program, args.ToList(), new Dictionary<string, string?>(), null);

    /// <summary>Runs <paramref name="program"/>; an environment entry with a null value removes that variable.</summary>
    public static ProcessResult Execute(string program, IReadOnlyList<string> args, IReadOnlyDictionary<string, string?> environment, TimeSpan? timeout = null)
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
}
