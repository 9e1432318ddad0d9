using System.Diagnostics;
using System.Text;

namespace NodeAgent.Tests.Support;

/// <summary>
/// A long-running helper a test starts (a registry, a containerd), with everything it prints
/// collected for failure messages. <see cref="Dispose"/> kills that process, and only it, and waits.
/// </summary>
public sealed class LoggedProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    public LoggedProcess(ProcessStartInfo info)
    {
        _process = new Process { StartInfo = info };
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.Start();
        _process.StandardInput.Close();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>What the process has printed so far, both streams.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public int Id => _process.Id;

    public int ExitCode => _process.ExitCode;

    /// <summary>Waits up to <paramref name="milliseconds"/> for the process to end; true when it has.</summary>
    public bool WaitForExit(int milliseconds) => _process.WaitForExit(milliseconds);

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_log)
        {
            _log.AppendLine(line);
        }
    }
}
