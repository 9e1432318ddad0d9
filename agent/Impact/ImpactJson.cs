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
            Objects(json, "files", report.Files, file =>
            {
                json.WriteString("path", file.Path);
                json.WriteString("change", file.Change);
                json.WriteString("diff", diff(file));
            });
            Objects(json, "scopes", report.Scopes, scope => WriteScope(json, scope));
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
            Objects(json, "policy", report.Policy, policy =>
            {
                json.WriteString("scope", policy.Scope);
                json.WriteString("before", policy.Before);
                json.WriteString("after", policy.After);
            });
            Objects(json, "trust", report.Trust, trust =>
            {
                json.WriteString("host", trust.Host);
                json.WriteString("path", trust.Path);
                json.WriteString("change", trust.Change);
            });
            json.WriteStartObject("reload");
            json.WriteBoolean("needed", report.ReloadNeeded);
            Strings(json, "because", report.ReloadBecause);
            json.WriteBoolean("disabled", report.ReloadDisabled);
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
        json.WriteString("scope", scope.Scope);
        Objects(json, "changes", scope.Changes, change =>
        {
            json.WriteString("kind", change.Kind);
            json.WriteString("detail", change.Detail);
        });
        Pulls(json, "digestPulls", scope.DigestBefore, scope.DigestAfter);
        Pulls(json, "tagPulls", scope.TagBefore, scope.TagAfter);
    }

    // An array of objects, each written field by field.
    private static void Objects<T>(Utf8JsonWriter json, string name, IEnumerable<T> items, Action<T> writeFields)
    {
        json.WriteStartArray(name);
        foreach (var item in items)
        {
            json.WriteStartObject();
            writeFields(item);
            json.WriteEndObject();
        }
        json.WriteEndArray();
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
