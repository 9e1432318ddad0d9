using System.Collections;
using System.Globalization;
using System.Text.Json;

using NodeAgent.Text;

namespace NodeAgent.Configuration;

/// <summary>
/// Builds <see cref="AgentOptions"/> from defaults, the <c>--config</c> JSON file,
/// <c>NODEAGENT_&lt;Setting&gt;</c> variables and the command line, in rising precedence, and
/// validates the result. Every problem is a <see cref="UsageException"/> naming the setting.
/// </summary>
public static class OptionsLoader
{
    public const string EnvironmentPrefix = "NODEAGENT_";

    private enum SettingType
    {
        Text,
        List,
        Integer,
        Boolean,
    }

    private static readonly Dictionary<string, SettingType> Settings = new(StringComparer.OrdinalIgnoreCase)
    {
        [nameof(AgentOptions.Root)] = SettingType.Text,
        [nameof(AgentOptions.Kubeconfig)] = SettingType.Text,
        [nameof(AgentOptions.NodeName)] = SettingType.Text,
        [nameof(AgentOptions.ReleaseImage)] = SettingType.Text,
        [nameof(AgentOptions.ReloadCommand)] = SettingType.Text,
        [nameof(AgentOptions.HealthCommand)] = SettingType.Text,
        [nameof(AgentOptions.Listen)] = SettingType.Text,
        [nameof(AgentOptions.BaseSearchRegistries)] = SettingType.List,
        [nameof(AgentOptions.BasePolicyFile)] = SettingType.Text,
        [nameof(AgentOptions.CaNamespace)] = SettingType.Text,
        [nameof(AgentOptions.ManagedCaConfigMap)] = SettingType.Text,
        [nameof(AgentOptions.CertsTargets)] = SettingType.List,
        [nameof(AgentOptions.Runtime)] = SettingType.Text,
        [nameof(AgentOptions.BackoffCapSeconds)] = SettingType.Integer,
        [nameof(AgentOptions.DriftBackoffSeconds)] = SettingType.Integer,
        [nameof(AgentOptions.MaxManifestBytes)] = SettingType.Integer,
        [nameof(AgentOptions.MaxYamlDepth)] = SettingType.Integer,
        [nameof(AgentOptions.LogLevel)] = SettingType.Text,
        [nameof(AgentOptions.ReportStatus)] = SettingType.Boolean,
    };

    private static readonly string[] LogLevels = ["Trace", "Debug", "Information", "Warning", "Error"];

    public static AgentOptions Load(CommandLine commandLine, IDictionary environment)
    {
        var values = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        if (commandLine.ConfigFile is not null)
        {
            ReadFile(commandLine.ConfigFile, values);
        }
        var rootFrom = commandLine.ConfigFile is not null && values.ContainsKey(nameof(AgentOptions.Root)) ? $"--config {commandLine.ConfigFile}: Root" : null;
        foreach (var key in environment.Keys.OfType<string>().Where(k => k.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal))
        {
            var name = key[EnvironmentPrefix.Length..];
            // As an unknown key in --config is: a misspelt variable would otherwise leave the
            // setting at its default without a word.
            if (!Settings.TryGetValue(name, out var type))
            {
                var suggestion = NearMiss.Closest(name, Settings.Keys) is { } close ? $"; did you mean {EnvironmentPrefix}{close}?" : $"; settings: {string.Join(", ", Settings.Keys)}";
                throw new UsageException($"environment variable {key} is not a setting{suggestion}");
            }
            values[Canonical(name)] = FromText(key, (string?)environment[key] ?? "", type);
            if (string.Equals(name, nameof(AgentOptions.Root), StringComparison.OrdinalIgnoreCase))
            {
                rootFrom = key;
            }
        }
        foreach (var (setting, value) in commandLine.Settings)
        {
            values[setting] = FromText(setting, value, Settings[setting]);
        }
        if (commandLine.Settings.ContainsKey(nameof(AgentOptions.Root)))
        {
            rootFrom = "--root";
        }

        var defaults = new AgentOptions();
        var options = new AgentOptions
        {
            Root = Text(values, nameof(AgentOptions.Root)) ?? defaults.Root,
            Kubeconfig = Text(values, nameof(AgentOptions.Kubeconfig)),
            NodeName = Text(values, nameof(AgentOptions.NodeName)) ?? NodeNameFrom(environment),
            ReleaseImage = Text(values, nameof(AgentOptions.ReleaseImage)),
            ReloadCommand = Text(values, nameof(AgentOptions.ReloadCommand)),
            HealthCommand = Text(values, nameof(AgentOptions.HealthCommand)),
            // Empty turns the endpoints off, as an empty ReloadCommand turns reloads off.
            Listen = Text(values, nameof(AgentOptions.Listen)) is { Length: > 0 } listen ? listen : null,
            BaseSearchRegistries = List(values, nameof(AgentOptions.BaseSearchRegistries)) ?? defaults.BaseSearchRegistries,
            BasePolicyFile = Text(values, nameof(AgentOptions.BasePolicyFile)),
            CaNamespace = Text(values, nameof(AgentOptions.CaNamespace)) ?? defaults.CaNamespace,
            ManagedCaConfigMap = Text(values, nameof(AgentOptions.ManagedCaConfigMap)) ?? defaults.ManagedCaConfigMap,
            CertsTargets = List(values, nameof(AgentOptions.CertsTargets)) ?? defaults.CertsTargets,
            Runtime = Text(values, nameof(AgentOptions.Runtime)) ?? defaults.Runtime,
            BackoffCapSeconds = Int32(values, nameof(AgentOptions.BackoffCapSeconds)) ?? defaults.BackoffCapSeconds,
            DriftBackoffSeconds = Int32(values, nameof(AgentOptions.DriftBackoffSeconds)) ?? defaults.DriftBackoffSeconds,
            MaxManifestBytes = Integer(values, nameof(AgentOptions.MaxManifestBytes)) ?? defaults.MaxManifestBytes,
            MaxYamlDepth = Int32(values, nameof(AgentOptions.MaxYamlDepth)) ?? defaults.MaxYamlDepth,
            LogLevel = Text(values, nameof(AgentOptions.LogLevel)) ?? defaults.LogLevel,
            ReportStatus = Boolean(values, nameof(AgentOptions.ReportStatus)) ?? defaults.ReportStatus,
            Once = commandLine.Once,
            Manifests = commandLine.Manifests,
            DryRun = commandLine.DryRun,
            AllowEmpty = commandLine.AllowEmpty,
            Output = commandLine.Output,
            ConfigFile = commandLine.ConfigFile,
        };
        Validate(options);
        // A relative root is taken from the working directory, once, so every path agrees.
        options = options with { Root = Path.GetFullPath(options.Root) };
        CheckRoot(options.Root, rootFrom ?? "--root", mustExist: commandLine.Command is not null);
        return options;
    }

    /// <summary>The settings a <c>--config</c> file or a <c>NODEAGENT_&lt;Setting&gt;</c> variable may set.</summary>
    public static IReadOnlyCollection<string> SettingNames => Settings.Keys;

    // A root that is a file (or below one) can never be written; status and explain read a root
    // that is there, and a missing one is a typo, not an empty node.
    private static void CheckRoot(string root, string from, bool mustExist)
    {
        var named = from.StartsWith(EnvironmentPrefix, StringComparison.Ordinal) ? $"{from}={root}" : $"{from} {root}";
        var existing = root;
        while (!Directory.Exists(existing) && !File.Exists(existing) && Path.GetDirectoryName(existing) is { } parent)
        {
            existing = parent;
        }
        if (File.Exists(existing))
        {
            throw new UsageException(existing == root
                ? $"{named} is not a directory; give the directory that stands for the host's /"
                : $"{named} is not a directory: {existing} is a file; give the directory that stands for the host's /");
        }
        if (mustExist && existing != root)
        {
            throw new UsageException($"{named} does not exist; give the directory node-agent renders into (default /)");
        }
    }

    private static void ReadFile(string file, Dictionary<string, object?> values)
    {
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--config {file}: {e.Message}");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new UsageException(JsonErrorText.Describe(file, e, text));
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new UsageException($"--config {file}: expected a JSON object of settings");
            }
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!Settings.TryGetValue(property.Name, out var type))
                {
                    var suggestion = NearMiss.Closest(property.Name, Settings.Keys) is { } close ? $"did you mean {close}? " : "";
                    throw new UsageException($"--config {file}: unknown setting {Rendering.GoQuote.Quote(property.Name)}; {suggestion}known: {string.Join(", ", Settings.Keys)}");
                }
                if (!seen.Add(property.Name))
                {
                    throw new UsageException($"--config {file}: the setting {property.Name} is given twice");
                }
                values[Canonical(property.Name)] = FromJson(file, property.Name, property.Value, type);
            }
        }
    }

    private static string Canonical(string key) => Settings.Keys.First(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase));

    private static object? FromJson(string file, string key, JsonElement value, SettingType type)
    {
        var where = $"--config {file}: {key}";
        try
        {
            switch (type)
            {
                case SettingType.Text when value.ValueKind == JsonValueKind.String:
                    return value.GetString();
                case SettingType.Integer when value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n):
                    return n;
                case SettingType.Boolean when value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                    return value.GetBoolean();
                case SettingType.List when value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(i => i.ValueKind == JsonValueKind.String):
                    return value.EnumerateArray().Select(i => i.GetString()!).ToList();
                case var _ when value.ValueKind == JsonValueKind.Null:
                    return null;
                default:
                    throw new UsageException($"{where}: expected {Describe(type)}, got {value.GetRawText()}");
            }
        }
        catch (InvalidOperationException)
        {
            // GetString refuses text that is not valid UTF-16, such as a lone "\ud800".
            throw new UsageException($"{where}: the string is not valid Unicode text");
        }
    }

    private static object FromText(string where, string text, SettingType type)
    {
        switch (type)
        {
            case SettingType.Text:
                return text;
            case SettingType.Integer:
                return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
                    ? n
                    : throw new UsageException($"{where}: expected {Describe(type)}, got {Rendering.GoQuote.Quote(text)}");
            case SettingType.Boolean:
                return text switch
                {
                    "true" => true,
                    "false" => false,
                    _ => throw new UsageException($"{where}: expected {Describe(type)}, got {Rendering.GoQuote.Quote(text)}"),
                };
            default:
                if (text.TrimStart().StartsWith('['))
                {
                    try
                    {
                        return JsonSerializer.Deserialize(text, OptionsJsonContext.Default.ListString) ?? [];
                    }
                    catch (JsonException e)
                    {
                        throw new UsageException($"{where}: expected a JSON list of strings: {JsonErrorText.Reason(e)}");
                    }
                }
                return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        }
    }

    private static string Describe(SettingType type) => type switch
    {
        SettingType.Text => "a string",
        SettingType.Integer => "an integer",
        SettingType.Boolean => "true or false",
        _ => "a list of strings",
    };

    private static string? Text(Dictionary<string, object?> values, string key) =>
        values.TryGetValue(key, out var v) ? (string?)v : null;

    private static IReadOnlyList<string>? List(Dictionary<string, object?> values, string key) =>
        values.TryGetValue(key, out var v) ? (List<string>?)v : null;

    private static bool? Boolean(Dictionary<string, object?> values, string key) =>
        values.TryGetValue(key, out var v) ? (bool?)v : null;

    // cli.md: NODE_NAME (the DaemonSet sets it from spec.nodeName), then the host name, which
    // kubelet lower-cases for the Node's name.
    private static string NodeNameFrom(IDictionary environment) =>
        environment["NODE_NAME"] is string { Length: > 0 } name ? name : System.Net.Dns.GetHostName().ToLowerInvariant();

    private static long? Integer(Dictionary<string, object?> values, string key) =>
        values.TryGetValue(key, out var v) ? (long?)v : null;

    // A number past the range of int would wrap into a valid-looking setting: refuse it by name.
    private static int? Int32(Dictionary<string, object?> values, string key) => Integer(values, key) switch
    {
        null => null,
        var n and >= int.MinValue and <= int.MaxValue => (int)n,
        var n => throw new UsageException($"{key}: {n} is out of range"),
    };

    private static void Validate(AgentOptions options)
    {
        if (options.Root.Length == 0)
        {
            throw new UsageException("Root: must not be empty (use / for the host itself)");
        }
        if (options.MaxManifestBytes is < 1 or > 1L << 32)
        {
            throw new UsageException($"MaxManifestBytes: {options.MaxManifestBytes} must be between 1 and 4294967296");
        }
        if (options.MaxYamlDepth is < 2 or > 1000)
        {
            throw new UsageException($"MaxYamlDepth: {options.MaxYamlDepth} must be between 2 and 1000");
        }
        if (options.BackoffCapSeconds is < 1 or > 3600)
        {
            throw new UsageException($"BackoffCapSeconds: {options.BackoffCapSeconds} must be between 1 and 3600");
        }
        if (options.DriftBackoffSeconds is < 1 or > 3600)
        {
            throw new UsageException($"DriftBackoffSeconds: {options.DriftBackoffSeconds} must be between 1 and 3600");
        }
        if (!LogLevels.Contains(options.LogLevel, StringComparer.OrdinalIgnoreCase))
        {
            throw new UsageException($"LogLevel: {Rendering.GoQuote.Quote(options.LogLevel)} must be one of {string.Join(", ", LogLevels)}");
        }
        for (var i = 0; i < options.BaseSearchRegistries.Count; i++)
        {
            var registry = options.BaseSearchRegistries[i];
            if (!Rendering.ScopeRules.IsRegistryHost(registry))
            {
                throw new UsageException($"BaseSearchRegistries[{i}]: {Rendering.GoQuote.Quote(registry)} is not a registry host[:port]");
            }
        }
        foreach (var target in options.CertsTargets)
        {
            if (!target.StartsWith('/'))
            {
                throw new UsageException($"CertsTargets: {Rendering.GoQuote.Quote(target)} must be an absolute path on the host");
            }
        }
        if (options.Runtime is not (AgentOptions.RuntimeCrio or AgentOptions.RuntimeContainerd or AgentOptions.RuntimeBoth))
        {
            throw new UsageException($"Runtime: {Rendering.GoQuote.Quote(options.Runtime)} must be {AgentOptions.RuntimeCrio}, " +
                $"{AgentOptions.RuntimeContainerd} or {AgentOptions.RuntimeBoth}");
        }
        if (options.ManagedCaConfigMap.Length > 0 && options.ManagedCaConfigMap.Split('/') is not [{ Length: > 0 }, { Length: > 0 }])
        {
            throw new UsageException($"ManagedCaConfigMap: {Rendering.GoQuote.Quote(options.ManagedCaConfigMap)} must be namespace/name or empty");
        }
        if (options.Listen is not null && !ListenAddress.TryParse(options.Listen, out _, out var listenProblem))
        {
            throw new UsageException($"Listen: {listenProblem}");
        }
        if (options.DryRun && !options.Once)
        {
            throw new UsageException("--dry-run works with --once");
        }
        if (options.Manifests is not null && !options.Once)
        {
            throw new UsageException("--manifests works with --once (the daemon reads the API server)");
        }
        if (options.AllowEmpty && options.Manifests is null)
        {
            throw new UsageException("--allow-empty works with --once --manifests (an empty list from the API server is real and always rendered)");
        }
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(List<string>))]
internal sealed partial class OptionsJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
