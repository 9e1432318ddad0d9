using System.Collections.Concurrent;
using System.Diagnostics;

namespace NodeAgent.Tests.Support;

/// <summary>
/// <c>bin/node-agent</c> running as a daemon, as a user would start it: its stderr is collected
/// line by line, tests wait on conditions with deadlines, and it is stopped with a real SIGTERM.
/// </summary>
public sealed class DaemonProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly Task _stdoutDrain;
    private readonly Task _stderrDrain;

    private DaemonProcess(Process process)
    {
        _process = process;
        _stdoutDrain = process.StandardOutput.ReadToEndAsync();
        _stderrDrain = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                _stderr.Enqueue(line);
            }
        });
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Every stderr line so far.</summary>
    public IReadOnlyList<string> Log => [.. _stderr];

    public string LogText => string.Join('\n', _stderr);

    /// <summary>Starts <paramref name="binary"/>, by default <c>bin/node-agent</c>.</summary>
    public static DaemonProcess Start(IEnumerable<string> args, IDictionary<string, string>? environment = null, string? binary = null)
    {
        var info = NodeAgentProcess.StartInfo(binary ?? RepoPaths.Binary, args, NodeAgentProcess.AgentEnvironment(environment));
        var process = Process.Start(info)!;
        process.StandardInput.Close();
        return new DaemonProcess(process);
    }

    /// <summary>Waits until <paramref name="condition"/> holds, polling briefly; fails naming <paramref name="what"/> with the log.</summary>
    public async Task WaitForAsync(Func<bool> condition, string what, TimeSpan? deadline = null)
    {
        var until = Stopwatch.StartNew();
        var limit = deadline ?? TimeSpan.FromSeconds(20);
        while (!condition())
        {
            if (_process.HasExited && !condition())
            {
                throw new InvalidOperationException($"node-agent exited ({_process.ExitCode}) before {what}\n{LogText}");
            }
            if (until.Elapsed > limit)
            {
                throw new TimeoutException($"no {what} within {limit.TotalSeconds:0} s\n--- node-agent log\n{LogText}");
            }
            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    public Task WaitForLogAsync(string fragment, TimeSpan? deadline = null) =>
        WaitForAsync(() => _stderr.Any(l => l.Contains(fragment, StringComparison.Ordinal)), $"log line containing \"{fragment}\"", deadline);

    /// <summary>Sends SIGTERM and waits for the exit; returns the exit code and how long it took.</summary>
    public async Task<(int ExitCode, TimeSpan Took)> TerminateAsync(TimeSpan? deadline = null)
    {
        var took = Stopwatch.StartNew();
        Signal("TERM");
        using var timeout = new CancellationTokenSource(deadline ?? TimeSpan.FromSeconds(15));
        await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        await Task.WhenAll(_stdoutDrain, _stderrDrain).ConfigureAwait(false);
        return (_process.ExitCode, took.Elapsed);
    }

    public void Signal(string name)
    {
        using var kill = Process.Start(new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", $"kill -{name} {_process.Id}" } })!;
        kill.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process.Dispose();
    }
}
