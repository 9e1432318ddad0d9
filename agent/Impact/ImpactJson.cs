using System.Text;
using System.Text.Json;

namespace NodeAgent.Impact;

/// <summary>
/// The dry run as one JSON document (<c>--dry-run --output json</c>): every changed file with
/// its unified diff, and the impact report. Written field by field, so the shape is stable and
/// the trimmed build needs no reflection.
/// </summary>
public static class ImpactJson
{
    public static string Format(ImpactReport report, Func<FileVersions, string> diff)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(diff);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteStartArray("files");
            foreach (var file in report.Files)
            {
                json.WriteStartObject();
                json.WriteString("path", file.Path);
                json.WriteString("change", file.Change);
                json.WriteString("diff", diff(file));
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("scopes");
            foreach (var scope in report.Scopes)
            {
                WriteScope(json, scope);
            }
            json.WriteEndArray();
            if (report.Search is { } search)
            {
                json.WriteStartObject("search");
                Strings(json, "before", search.Before);
                Strings(json, "after", search.After);
                json.WriteEndObject();
            }
            else
            {
                json.WriteNull("search");
            }
            json.WriteStartArray("policy");
            foreach (var policy in report.Policy)
            {
                json.WriteStartObject();
                json.WriteString("scope", policy.Scope);
                json.WriteString("before", policy.Before);
                json.WriteString("after", policy.After);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("trust");
            foreach (var trust in report.Trust)
            {
                json.WriteStartObject();
                json.WriteString("host", trust.Host);
                json.WriteString("path", trust.Path);
                json.WriteString("change", trust.Change);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartObject("reload");
            json.WriteBoolean("needed", report.ReloadNeeded);
            Strings(json, "because", report.ReloadBecause);
            json.WriteEndObject();
            json.WriteStartObject("mco");
            json.WriteString("action", Action(report.Mco.Action));
            json.WriteString("reason", report.Mco.Reason);
            json.WriteEndObject();
            Strings(json, "notes", report.Notes);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>The stable names of <see cref="McoAction"/> in JSON.</summary>
    public static string Action(McoAction action) => action switch
    {
        McoAction.None => "none",
        McoAction.Reload => "reload",
        McoAction.DrainAndReload => "drain-and-reload",
        _ => "drain-and-reboot",
    };

    private static void WriteScope(Utf8JsonWriter json, ScopeImpact scope)
    {
        json.WriteStartObject();
        json.WriteString("scope", scope.Scope);
        json.WriteStartArray("changes");
        foreach (var change in scope.Changes)
        {
            json.WriteStartObject();
            json.WriteString("kind", change.Kind);
            json.WriteString("detail", change.Detail);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        Pulls(json, "digestPulls", scope.DigestBefore, scope.DigestAfter);
        Pulls(json, "tagPulls", scope.TagBefore, scope.TagAfter);
        json.WriteEndObject();
    }

    private static void Pulls(Utf8JsonWriter json, string name, PullOrder before, PullOrder after)
    {
        json.WriteStartObject(name);
        Strings(json, "before", before.Endpoints);
        json.WriteBoolean("sourceBlockedBefore", before.SourceBlocked);
        Strings(json, "after", after.Endpoints);
        json.WriteBoolean("sourceBlockedAfter", after.SourceBlocked);
        json.WriteEndObject();
    }

    private static void Strings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }
        json.WriteEndArray();
    }
}
