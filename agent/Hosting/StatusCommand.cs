using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NodeAgent.Configuration;
using NodeAgent.Node;
using NodeAgent.Sync;

namespace NodeAgent.Hosting;

/// <summary>
/// <c>node-agent status</c>: what the last pass did on this node, from node-agent's own records
/// below the root (status.json, state.json) and the files as they are now. Reads only.
/// </summary>
public static class StatusCommand
{
    public static int Run(string root, string output, TextWriter stdout, TextWriter stderr, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var paths = new HostPaths(root);
        NodeState state;
        NodeStatus? status;
        try
        {
            state = new StateStore(paths).Load();
            status = new NodeStatusFile(paths).Read();
        }
        catch (HostAccessException e)
        {
            stderr.WriteLine($"error: {e.Message}; run node-agent status as root (state.json is readable by root only)");
            return ExitCodes.RuntimeFailure;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"error: {e.Message}");
            return ExitCodes.RuntimeFailure;
        }
        var files = state.Files.Select(f => Inspect(paths, f.Key, f.Value)).ToList();
        stdout.Write(output == CommandLine.OutputJson ? Json(paths, status, files) : Text(paths, status, files, now));
        return ExitCodes.Success;
    }

    /// <summary>A managed file as it is now: its hash, and whether it is what node-agent last wrote.</summary>
    private sealed record FileNow(string Path, string? Sha256, string State);

    private static FileNow Inspect(HostPaths paths, string path, ManagedFile managed)
    {
        byte[]? bytes;
        try
        {
            bytes = SafePath.Read(paths, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new FileNow(path, null, $"unreadable: {e.Message}");
        }
        var hash = bytes is null ? null : Convert.ToHexStringLower(SHA256.HashData(bytes));
        var state = (bytes, managed.WrittenSha256) switch
        {
            (null, null) => "absent, as node-agent left it",
            (null, _) => "missing: removed by someone else",
            (_, null) => "present, not yet written by node-agent",
            _ when hash == managed.WrittenSha256 => "as node-agent wrote it",
            _ => "changed by someone else since node-agent wrote it",
        };
        return new FileNow(path, hash, state);
    }

    private static string Text(HostPaths paths, NodeStatus? status, List<FileNow> files, DateTimeOffset now)
    {
        var text = new StringBuilder();
        text.Append("root         ").Append(paths.Root).Append('\n');
        if (status is null)
        {
            text.Append("last pass    none recorded (node-agent has not applied anything below this root, or only dry runs)\n");
        }
        else
        {
            text.Append("last pass    ").Append(status.Time).Append("  ").Append(status.Result).Append(": ").Append(status.Summary).Append('\n');
            if (status.RenderedHash.Length > 0)
            {
                text.Append("rendered     sha256:").Append(status.RenderedHash).Append('\n');
            }
            text.Append("objects      ").Append(status.Generations.Count == 0 ? "none" : string.Join(", ", status.Generations.Select(g => g.Value.Length == 0 ? g.Key : $"{g.Key} ({g.Value})"))).Append('\n');
            text.Append("last reload  ").Append(status.LastReload is { } reload ? $"{reload.Time} {(reload.Succeeded ? "succeeded" : "failed")} ({reload.Runs} run(s))" : "none").Append('\n');
        }
        text.Append("files\n");
        if (files.Count == 0)
        {
            text.Append("  none managed\n");
        }
        var width = files.Count == 0 ? 0 : files.Max(f => f.Path.Length);
        foreach (var file in files)
        {
            text.Append("  ").Append(file.Path.PadRight(width)).Append("  ").Append(file.Sha256 is null ? "-".PadRight(12) : file.Sha256[..12]).Append("  ").Append(file.State).Append('\n');
        }
        if (status is { CaExpiry.Count: > 0 })
        {
            text.Append("CA expiry\n");
            var hostWidth = status.CaExpiry.Keys.Max(h => h.Length);
            foreach (var (host, notAfter) in status.CaExpiry)
            {
                text.Append("  ").Append(host.PadRight(hostWidth)).Append("  ").Append(notAfter).Append("  ").Append(Left(notAfter, now)).Append('\n');
            }
        }
        if (status is { Warnings.Count: > 0 })
        {
            text.Append("warnings\n");
            foreach (var warning in status.Warnings)
            {
                text.Append("  ").Append(warning).Append('\n');
            }
        }
        return text.ToString();
    }

    private static string Left(string notAfter, DateTimeOffset now)
    {
        if (!DateTimeOffset.TryParse(notAfter, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return "";
        }
        var days = Rendering.ExpiryDays.Left(time, now);
        return days < 0 ? "EXPIRED" : $"{days} days left";
    }

    private static string Json(HostPaths paths, NodeStatus? status, List<FileNow> files)
    {
        var document = new JsonObject
        {
            ["root"] = paths.Root,
            ["lastPass"] = status is null ? null : JsonSerializer.SerializeToNode(status, NodeStatusJsonContext.Default.NodeStatus),
            ["files"] = new JsonArray([.. files.Select(f => (JsonNode)new JsonObject
            {
                ["path"] = f.Path,
                ["sha256"] = f.Sha256,
                ["state"] = f.State,
            })]),
        };
        return document.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }
}
