using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace NodeAgent.Hosting;

/// <summary>
/// Writes the instruments of one <see cref="System.Diagnostics.Metrics.Meter"/> in the Prometheus
/// text format 0.0.4, read through a <see cref="MeterListener"/>. This stands in for
/// prometheus-net, which the package mirror here lacks. Counters (plain and observable) are
/// exposed as <c>counter</c>, every other instrument but histograms as <c>gauge</c>; the
/// instrument name is the metric name, so it carries its own <c>_total</c>. Histograms are left
/// out: node-agent has none, and a partial bucket format would mislead.
/// </summary>
public sealed class PrometheusText : IDisposable
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly Meter _meter;
    private readonly MeterListener _listener;
    // One lock for measurements and scrapes: a scrape sees each series once, never half-updated.
    private readonly Lock _gate = new();
    private readonly SortedDictionary<string, Family> _families = new(StringComparer.Ordinal);

    public PrometheusText(Meter meter)
    {
        ArgumentNullException.ThrowIfNull(meter);
        _meter = meter;
        _listener = new MeterListener
        {
            InstrumentPublished = Publish,
            MeasurementsCompleted = (instrument, _) =>
            {
                lock (_gate)
                {
                    _families.Remove(MetricName(instrument.Name));
                }
            },
        };
        _listener.SetMeasurementEventCallback<byte>((_, value, tags, state) => Measure(state, value, tags));
        _listener.SetMeasurementEventCallback<short>((_, value, tags, state) => Measure(state, value, tags));
        _listener.SetMeasurementEventCallback<int>((_, value, tags, state) => Measure(state, value, tags));
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) => Measure(state, value, tags));
        _listener.SetMeasurementEventCallback<float>((_, value, tags, state) => Measure(state, value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, state) => Measure(state, value, tags));
        _listener.SetMeasurementEventCallback<decimal>((_, value, tags, state) => Measure(state, (double)value, tags));
        _listener.Start();
    }

    /// <summary>Every family in name order, every series in label order, ending in a newline.</summary>
    public string Scrape()
    {
        var text = new StringBuilder();
        lock (_gate)
        {
            foreach (var family in _families.Values.Where(f => f.Observable))
            {
                family.Series.Clear();
            }
            // Runs the observable callbacks on this thread; their values land in Measure below.
            _listener.RecordObservableInstruments();
            foreach (var (name, family) in _families)
            {
                text.Append("# HELP ").Append(name).Append(' ').Append(EscapeHelp(family.Help)).Append('\n');
                text.Append("# TYPE ").Append(name).Append(' ').Append(family.Type).Append('\n');
                foreach (var (labels, value) in family.Series)
                {
                    text.Append(name).Append(labels).Append(' ').Append(FormatValue(value)).Append('\n');
                }
            }
        }
        return text.ToString();
    }

    /// <summary>Writes <see cref="Scrape"/> as UTF-8.</summary>
    public Task WriteAsync(Stream stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return stream.WriteAsync(Encoding.UTF8.GetBytes(Scrape()), cancellationToken).AsTask();
    }

    public void Dispose() => _listener.Dispose();

    private void Publish(Instrument instrument, MeterListener listener)
    {
        if (!ReferenceEquals(instrument.Meter, _meter))
        {
            return;
        }
        var kind = instrument.GetType().IsGenericType ? instrument.GetType().GetGenericTypeDefinition() : null;
        if (kind == typeof(Histogram<>))
        {
            return;
        }
        var family = new Family(
            help: string.IsNullOrEmpty(instrument.Description) ? instrument.Name : instrument.Description,
            type: kind == typeof(Counter<>) || kind == typeof(ObservableCounter<>) ? "counter" : "gauge",
            observable: instrument.IsObservable,
            // A plain counter reports increments to add up; everything else reports the value itself.
            accumulates: kind == typeof(Counter<>) || kind == typeof(UpDownCounter<>));
        lock (_gate)
        {
            _families[MetricName(instrument.Name)] = family;
        }
        listener.EnableMeasurementEvents(instrument, family);
    }

    private void Measure(object? state, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (state is not Family family)
        {
            return;
        }
        var labels = Labels(tags);
        lock (_gate)
        {
            family.Series[labels] = family.Accumulates ? family.Series.GetValueOrDefault(labels) + value : value;
        }
    }

    /// <summary><c>{a="1",b="2"}</c> with names sorted, or empty: the series key and its text at once.</summary>
    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty)
        {
            return "";
        }
        var sorted = tags.ToArray();
        Array.Sort(sorted, (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var text = new StringBuilder("{");
        foreach (var (key, value) in sorted)
        {
            if (text.Length > 1)
            {
                text.Append(',');
            }
            text.Append(Sanitize(key, colon: false)).Append("=\"")
                .Append(EscapeLabelValue(Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""))
                .Append('"');
        }
        return text.Append('}').ToString();
    }

    private static string MetricName(string name) => Sanitize(name, colon: true);

    /// <summary>
    /// Any character a metric name (or, without colons, a label name) cannot hold becomes
    /// <c>_</c>, so an unusual instrument name still yields a scrape Prometheus accepts.
    /// </summary>
    private static string Sanitize(string name, bool colon)
    {
        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            var c = chars[i];
            var valid = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or '_' || (c == ':' && colon) || (i > 0 && c is >= '0' and <= '9');
            if (!valid)
            {
                chars[i] = '_';
            }
        }
        return new string(chars);
    }

    internal static string EscapeLabelValue(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal)
            .Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("\n", "\\n", StringComparison.Ordinal);

    // HELP text escapes backslash and newline only; a quote is literal there.
    private static string EscapeHelp(string help) =>
        help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    internal static string FormatValue(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        // Shortest text that parses back to the same double; invariant so a comma never appears.
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    private sealed class Family(string help, string type, bool observable, bool accumulates)
    {
        public string Help { get; } = help;

        public string Type { get; } = type;

        public bool Observable { get; } = observable;

        public bool Accumulates { get; } = accumulates;


        public SortedDictionary<string, double> Series { get; } = new(StringComparer.Ordinal);
    }
}
