using System.Diagnostics;

namespace NodeAgent.Node;

/// <summary>The outcome of one shell command: exit code (-1 when it could not run or timed out) and output.</summary>
public sealed record CommandResult(string Command, int ExitCode, string Output, TimeSpan Duration)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>Runs the reload and health commands with <c>/bin/sh -c</c>, bounded in time.</summary>
public static class CommandRunner
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);
    private const int MaxOutputChars = 4096;

    public static async Task<CommandResult> RunAsync(string command, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        var info = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(command);
        using var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return new CommandResult(command, -1, $"cannot start /bin/sh: {e.Message}", started.Elapsed);
        }
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return new CommandResult(command, -1, $"timed out after {timeout.TotalSeconds:0} s", started.Elapsed);
        }
        var output = ((await stdout.ConfigureAwait(false)) + (await stderr.ConfigureAwait(false))).Trim();
        if (output.Length > MaxOutputChars)
        {
            output = output[..MaxOutputChars] + "…";
        }
        return new CommandResult(command, process.ExitCode, output, started.Elapsed);
    }
}
