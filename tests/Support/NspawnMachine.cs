using System.Diagnostics;
using System.Globalization;

namespace NodeAgent.Tests.Support;

/// <summary>
/// A container booted with <c>systemd-nspawn -b</c>: a real systemd as its PID 1, with journald,
/// D-Bus and whatever the root holds. <c>--volatile=overlay</c> puts every write in a tmpfs, so the
/// cached root stays as built; the host's network is shared (127.0.0.1 is the host's). Without a
/// host systemd, nspawn needs <c>--register=no --keep-unit</c>, and commands get in with
/// <c>nsenter</c> into the container's PID 1 (there is no machinectl).
/// </summary>
public sealed class NspawnMachine : IDisposable
{
    private static readonly TimeSpan BootDeadline = TimeSpan.FromSeconds(60);

    private readonly LoggedProcess _nspawn;
    private readonly string _name;

    private NspawnMachine(LoggedProcess nspawn, string name, int leader)
    {
        _nspawn = nspawn;
        _name = name;
        Leader = leader;
    }

    /// <summary>The host PID of the container's PID 1 (systemd).</summary>
    public int Leader { get; }

    /// <summary>What nspawn and the container's console printed so far.</summary>
    public string BootLog => _nspawn.Log;

    /// <summary>Boots <paramref name="root"/> with <paramref name="share"/> bound at <paramref name="shareInside"/>; returns once PID 1 says running (or degraded).</summary>
    public static NspawnMachine Boot(string nspawn, string root, string share, string shareInside)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"node-agent-test-{Environment.ProcessId}-{Environment.TickCount64 % 100000}");
        var info = NodeAgentProcess.StartInfo(nspawn,
            ["-D", root, "--volatile=overlay", "--register=no", "--keep-unit", "-M", name, $"--bind={share}:{shareInside}", "-b", "--console=read-only"],
            new Dictionary<string, string?> { ["SYSTEMD_COLORS"] = "0" });
        var process = new LoggedProcess(info);
        var deadline = Stopwatch.StartNew();
        var leader = 0;
        while (leader == 0 && deadline.Elapsed < BootDeadline && !process.HasExited)
        {
            // nspawn forks an inner child that forks the container's init and exits; until then
            // init is a grandchild. It is the one that is PID 1 in its own namespace and runs systemd.
            leader = Children(process.Id).SelectMany(child => Children(child).Prepend(child))
                .FirstOrDefault(pid => Comm(pid) == "systemd" && PidInNamespace(pid) == "1");
            if (leader == 0)
            {
                Thread.Sleep(100);
            }
        }
        if (leader == 0)
        {
            process.Dispose();
            throw new InvalidOperationException($"systemd-nspawn did not start a systemd within {BootDeadline.TotalSeconds} s:\n{process.Log}");
        }
        var machine = new NspawnMachine(process, name, leader);
        var state = "";
        while (deadline.Elapsed < BootDeadline)
        {
            // PID 1 answers on /run/systemd/private a few hundred ms after it started.
            state = machine.Run("systemctl is-system-running --wait", TimeSpan.FromSeconds(30)).Stdout.Trim();
            if (state is "running" or "degraded")
            {
                return machine;
            }
            Thread.Sleep(100);
        }
        machine.Dispose();
        throw new InvalidOperationException($"the container's systemd did not reach running within {BootDeadline.TotalSeconds} s (last: '{state}'):\n{process.Log}");
    }

    /// <summary>Runs <paramref name="script"/> with <c>/bin/sh -c</c> in every namespace of the container, with a clean environment.</summary>
    public ProcessResult Run(string script, TimeSpan? timeout = null) =>
        NodeAgentProcess.Execute("nsenter",
            ["-t", Leader.ToString(CultureInfo.InvariantCulture), "-a", "--", "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "TERM=dumb", "SYSTEMD_COLORS=0", "LC_ALL=C.UTF-8",
                "/bin/sh", "-c", script],
            new Dictionary<string, string?>(), timeout ?? TimeSpan.FromMinutes(2));

    /// <summary>Runs <paramref name="script"/> and returns its stdout; fails with all of its output unless it exits 0.</summary>
    public string RunOk(string script, TimeSpan? timeout = null)
    {
        var result = Run(script, timeout);
        return result.ExitCode == 0
            ? result.Stdout
            : throw new InvalidOperationException($"in the container: {script}\nexit {result.ExitCode}\n--- stdout\n{result.Stdout}\n--- stderr\n{result.Stderr}");
    }

    public void Dispose()
    {
        try
        {
            if (!_nspawn.HasExited)
            {
                Run("systemctl poweroff", TimeSpan.FromSeconds(10));
                _nspawn.WaitForExit(20_000);
            }
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            // Killed below.
        }
        _nspawn.Dispose();
        // nspawn leaves its propagation directory behind when /run is not a tmpfs.
        var propagate = Path.Join("/run/systemd/nspawn/propagate", _name);
        if (Directory.Exists(propagate))
        {
            Directory.Delete(propagate, recursive: true);
        }
    }

    private static List<int> Children(int pid)
    {
        var path = $"/proc/{pid}/task/{pid}/children";
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (IOException)
        {
            return [];
        }
        return text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToList();
    }

    // The last field of NSpid: the PID as the innermost PID namespace sees it.
    private static string PidInNamespace(int pid)
    {
        try
        {
            return File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("NSpid:", StringComparison.Ordinal))?
                .Split('\t', StringSplitOptions.RemoveEmptyEntries)[^1] ?? "";
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static string Comm(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (IOException)
        {
            return "";
        }
    }
}
