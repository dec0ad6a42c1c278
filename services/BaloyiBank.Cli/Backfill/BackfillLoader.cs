using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using BaloyiBank.Contracts;
using BaloyiBank.EventLog;
using Sylvan.Data.Csv;

namespace BaloyiBank.Cli.Backfill;

/// <summary>A file is missing or its header is not the layout's: nothing was read or appended.</summary>
internal sealed class BackfillLayoutException(string message) : Exception(message);

/// <summary>What one file gave: rows read, appended, already in the log (an earlier backfill), refused by reason.</summary>
internal sealed class BackfillFileReport(CsvLayout layout)
{
    public CsvLayout Layout { get; } = layout;
    public long Rows { get; set; }
    public long BlankLines { get; set; }
    public long Appended { get; set; }
    public long AlreadyInLog { get; set; }
    public SortedDictionary<string, long> RejectedByReason { get; } = new(StringComparer.Ordinal);
    public long Rejected => RejectedByReason.Values.Sum();
}

/// <summary>The whole backfill: per file, and the time and CPU it took.</summary>
internal sealed record BackfillReport(IReadOnlyList<BackfillFileReport> Files, TimeSpan ReadTime, TimeSpan ScanTime, TimeSpan AppendTime, TimeSpan Elapsed, TimeSpan Cpu)
{
    public long Rows => Files.Sum(f => f.Rows);
    public long Appended => Files.Sum(f => f.Appended);
    public long AlreadyInLog => Files.Sum(f => f.AlreadyInLog);
    public long Rejected => Files.Sum(f => f.Rejected);
    public double RowsPerSecond => Elapsed > TimeSpan.Zero ? Rows / Elapsed.TotalSeconds : 0;
    public double CpuMicrosecondsPerRow => Rows > 0 ? Cpu.TotalMicroseconds / Rows : 0;
}

/// <summary>Live figures for the progress line (read from another thread).</summary>
internal sealed class BackfillProgress
{
    private long _rows;
    private long _bytesRead;
    private long _appended;

    public string Phase { get; set; } = "checking headers";
    public long TotalBytes { get; set; }
    public long ToAppend { get; set; }
    public long Rows => Interlocked.Read(ref _rows);
    public long BytesRead => Interlocked.Read(ref _bytesRead);
    public long Appended => Interlocked.Read(ref _appended);

    internal void Read(long rows, long bytes)
    {
        Interlocked.Exchange(ref _rows, rows);
        Interlocked.Exchange(ref _bytesRead, bytes);
    }

    internal void AddAppended(long count) => Interlocked.Add(ref _appended, count);
}

/// <summary>
/// Reads the five CSV files and appends their rows to the event log as the generator's events: every row's event id
/// comes from its file and key, rows are appended in event-time order (an account's opening first), partitioned by the
/// event's own key through the log's partitioner, and ids already in the log are skipped, so a re-run appends nothing.
/// Rows that break the layout are appended as <c>backfill.rejected_row</c> records, which cleansing quarantines
/// (reason <c>unknown_event_type</c>) with the file, line, backfill reason and raw row in the payload.
/// </summary>
internal sealed class BackfillLoader(IEventLog log, BackfillProgress progress) : IDisposable
{
    /// <summary>Header carrying the backfill event id on each record: the re-run check reads headers only.</summary>
    public const string EventIdHeader = "bb-backfill";

    /// <summary>The <c>type</c> of a refused row's record: no consumer knows it, so cleansing quarantines it.</summary>
    public const string RejectedRowType = "backfill.rejected_row";

    private const int AppendBatch = 8_192;
    private readonly PayloadArena _arena = new();
    private readonly List<Entry> _entries = [];
    private readonly ArrayBufferWriter<byte> _json = new(1024);
    // One writer for every row (Reset between rows): creating one per row cost more than the row's JSON.
    private Utf8JsonWriter? _writer;

    /// <summary>Checks every file's presence and header; throws <see cref="BackfillLayoutException"/> with one line naming the expected columns.</summary>
    public static void CheckHeaders(string folder)
    {
        foreach (var layout in CsvLayouts.All)
        {
            var path = Path.Combine(folder, layout.FileName);
            if (!File.Exists(path))
            {
                throw new BackfillLayoutException($"{path} does not exist. Fix: put the five files {string.Join(", ", CsvLayouts.All.Select(l => l.FileName))} in --from (./baloyi export-csv writes an example).");
            }

            string? header;
            using (var reader = new StreamReader(path, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true))
            {
                header = reader.ReadLine();
            }

            var got = header?.Trim() ?? "";
            var names = got.Split(',').Select(n => n.Trim().Trim('"')).ToArray();
            if (!names.SequenceEqual(layout.Columns.Select(c => c.Name), StringComparer.Ordinal))
            {
                throw new BackfillLayoutException(
                    $"{path}: the header does not match; expected columns {layout.Header}; got {(got.Length == 0 ? "an empty first line" : Shorten(got, 300))}. Fix: write the header exactly as expected (see README, Backfill from CSV).");
            }
        }
    }

    public async Task<BackfillReport> RunAsync(string folder, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
        CheckHeaders(folder);
        var reports = CsvLayouts.All.Select(l => new BackfillFileReport(l)).ToArray();
        progress.TotalBytes = CsvLayouts.All.Sum(l => new FileInfo(Path.Combine(folder, l.FileName)).Length);
        progress.Phase = "reading";
        long bytesBefore = 0, rowsBefore = 0;
        foreach (var layout in CsvLayouts.All)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var path = Path.Combine(folder, layout.FileName);
            ReadFile(path, layout, reports[(int)layout.File], bytesBefore, rowsBefore, cancellationToken);
            bytesBefore += new FileInfo(path).Length;
            rowsBefore += reports[(int)layout.File].Rows;
        }

        HoistOpenings();
        // Stable order: event time, then entity before its facts, then file and line.
        _entries.Sort(static (a, b) =>
        {
            var c = a.SortTicks.CompareTo(b.SortTicks);
            if (c == 0) c = a.Rank.CompareTo(b.Rank);
            if (c == 0) c = a.File.CompareTo(b.File);
            return c != 0 ? c : a.Line.CompareTo(b.Line);
        });
        var readTime = watch.Elapsed;

        progress.Phase = "checking the log for an earlier backfill";
        var existing = await ExistingIdsAsync(cancellationToken);
        var scanTime = watch.Elapsed - readTime;

        progress.Phase = "appending";
        progress.ToAppend = _entries.Count;
        var batch = new List<OutgoingEvent>(AppendBatch);
        var batchFiles = new List<int>(AppendBatch);
        await using (var producer = log.CreateProducer())
        {
            foreach (var entry in _entries)
            {
                if (existing.Contains(entry.Id))
                {
                    reports[entry.File].AlreadyInLog++;
                    progress.AddAppended(1);
                    continue;
                }

                batch.Add(new OutgoingEvent(entry.Key, _arena.Get(entry), new EventHeaders(
                    new KeyValuePair<string, string>(EventHeaders.ContentType, BankEventSerializer.ContentType),
                    new KeyValuePair<string, string>(EventIdHeader, entry.Id.ToString("D")))));
                batchFiles.Add(entry.File);
                if (batch.Count == AppendBatch)
                {
                    await FlushAsync(producer, batch, batchFiles, reports, cancellationToken);
                }
            }

            await FlushAsync(producer, batch, batchFiles, reports, cancellationToken);
        }

        var elapsed = watch.Elapsed;
        progress.Phase = "done";
        return new BackfillReport(reports, readTime, scanTime, elapsed - readTime - scanTime, elapsed, Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart);
    }

    private async Task FlushAsync(IEventLogProducer producer, List<OutgoingEvent> batch, List<int> files, BackfillFileReport[] reports, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return;
        }

        await producer.AppendAsync(batch, cancellationToken);
        foreach (var file in files)
        {
            reports[file].Appended++;
        }

        progress.AddAppended(batch.Count);
        batch.Clear();
        files.Clear();
    }

    private void ReadFile(string path, CsvLayout layout, BackfillFileReport report, long bytesBefore, long rowsBefore, CancellationToken cancellationToken)
    {
        var parser = new CsvRowParser(layout);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        // Invalid UTF-8 decodes to U+FFFD, which the parser refuses as bad_encoding with the row's line.
        using var text = new StreamReader(stream, new UTF8Encoding(false, throwOnInvalidBytes: false), detectEncodingFromByteOrderMarks: true, 1 << 16);
        using var reader = CsvDataReader.Create(text, new CsvDataReaderOptions
        {
            HasHeaders = true,
            Delimiter = ',',
            // No comment lines in a bank's extract: a row starting with '#' is data (and judged as such).
            Comment = '\0',
            BufferSize = 1 << 16,
            MaxBufferSize = 1 << 20,
        });
        var line = 2; // the header is line 1
        while (reader.Read())
        {
            var raw = reader.GetRawRecordSpan();
            var newlines = raw.Count('\n');
            var rowLine = line;
            line += Math.Max(1, newlines);
            var rowText = raw.TrimEnd("\r\n");
            if (rowText.IsWhiteSpace())
            {
                report.BlankLines++;
                continue;
            }

            report.Rows++;
            if ((report.Rows & 0x3FFF) == 0)
            {
                progress.Read(rowsBefore + report.Rows, bytesBefore + stream.Position);
                cancellationToken.ThrowIfCancellationRequested();
            }

            BankEvent bankEvent;
            try
            {
                bankEvent = parser.Parse(reader);
                if (!keys.Add(KeyOfEvent(bankEvent)))
                {
                    throw new RowRejectedException(RejectReasons.DuplicateKey, $"{layout.Columns[0].Name} {KeyOfEvent(bankEvent)} already appears earlier in {layout.FileName}; the first row stands");
                }
            }
            catch (RowRejectedException rejected)
            {
                Reject(layout, report, rowLine, rowText.ToString(), CsvRowParser.KeyOf(reader), rejected.Reason, rejected.Message);
                continue;
            }

            _entries.Add(Encode(bankEvent, layout, rowLine));
        }

        progress.Read(rowsBefore + report.Rows, bytesBefore + stream.Length);
    }

    /// <summary>The row's own key (customer, account, transaction, loan or payment id): the ids come from it.</summary>
    private static string KeyOfEvent(BankEvent bankEvent) => bankEvent switch
    {
        CustomerRegistered c => c.CustomerId,
        AccountOpened a => a.AccountId,
        TransactionPosted t => t.TransactionId,
        LoanDisbursed l => l.LoanId,
        LoanPaymentMade p => p.PaymentId,
        _ => throw new ArgumentOutOfRangeException(nameof(bankEvent), bankEvent.GetType().Name, "Not a bank event."),
    };

    private Entry Encode(BankEvent bankEvent, CsvLayout layout, int line)
    {
        var writer = Writer();
        BankEventSerializer.Serialize(writer, bankEvent);
        writer.Flush();

        // The event's own JSON plus where it came from; consumers ignore properties they do not know.
        var body = _json.WrittenSpan[..^1];
        var suffix = string.Create(CultureInfo.InvariantCulture, $",\"backfill\":{{\"file\":\"{layout.FileName}\",\"line\":{line}}}}}");
        var (chunk, offset) = _arena.Write(body, suffix);
        var rank = bankEvent switch
        {
            CustomerRegistered or AccountOpened => 0,
            LoanDisbursed => 1,
            TransactionPosted => 2,
            _ => 3,
        };
        return new Entry(bankEvent.OccurredAt.UtcTicks, (byte)rank, (int)layout.File, line, bankEvent.PartitionKey,
            Guid.ParseExact(bankEvent.EventId, "D"), chunk, offset, body.Length + Encoding.UTF8.GetByteCount(suffix));
    }

    private void Reject(CsvLayout layout, BackfillFileReport report, int line, string raw, string? key, string reason, string detail)
    {
        report.RejectedByReason[reason] = report.RejectedByReason.GetValueOrDefault(reason) + 1;
        var id = CsvRowParser.RejectedEventId(layout.FileName, line, raw);
        {
            var writer = Writer();
            writer.WriteStartObject();
            writer.WriteNumber("schemaVersion", EventTypes.CurrentSchemaVersion);
            writer.WriteString("type", RejectedRowType);
            writer.WriteString("eventId", id);
            writer.WriteStartObject("backfill");
            writer.WriteString("file", layout.FileName);
            writer.WriteNumber("line", line);
            writer.WriteString("reason", reason);
            writer.WriteString("detail", detail);
            writer.WriteString("row", raw.Length <= 4_096 ? raw : raw[..4_096]);
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.Flush();
        }

        var (chunk, offset) = _arena.Write(_json.WrittenSpan, "");
        // After every valid event, so they never sit between an account's facts; keyed like the row when it has a key.
        _entries.Add(new Entry(long.MaxValue, 9, (int)layout.File, line, key ?? $"{layout.FileName}:{line}", Guid.ParseExact(id, "D"), chunk, offset, _json.WrittenCount));
    }

    public void Dispose() => _writer?.Dispose();

    private Utf8JsonWriter Writer()
    {
        _json.ResetWrittenCount();
        if (_writer is null)
        {
            _writer = new Utf8JsonWriter(_json);
        }
        else
        {
            _writer.Reset(_json);
        }

        return _writer;
    }

    /// <summary>An account's opening sorts at its earliest event, so a late transaction never arrives before the account exists.</summary>
    private void HoistOpenings()
    {
        var earliest = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var entry in _entries)
        {
            if (entry.Rank is > 0 and < 9 && (!earliest.TryGetValue(entry.Key, out var t) || entry.SortTicks < t))
            {
                earliest[entry.Key] = entry.SortTicks;
            }
        }

        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_entries);
        for (var i = 0; i < span.Length; i++)
        {
            if (span[i].File == (int)BankFile.Accounts && earliest.TryGetValue(span[i].Key, out var first) && first < span[i].SortTicks)
            {
                span[i] = span[i] with { SortTicks = first };
            }
        }
    }

    /// <summary>The backfill ids already in the log (headers only): what an earlier run appended.</summary>
    private async Task<HashSet<Guid>> ExistingIdsAsync(CancellationToken cancellationToken)
    {
        var ids = new HashSet<Guid>();
        foreach (var info in await log.DescribeAsync(cancellationToken))
        {
            if (info.IsEmpty)
            {
                continue;
            }

            await using var reader = log.OpenReader(info.Partition, StartPosition.AtOffset(info.FirstOffset));
            var next = info.FirstOffset;
            while (next < info.NextOffset)
            {
                var records = await reader.ReadAsync(8_192, TimeSpan.FromSeconds(2), cancellationToken);
                if (records.Count == 0)
                {
                    break;
                }

                foreach (var record in records)
                {
                    if (record.Headers[EventIdHeader] is { } id && Guid.TryParseExact(id, "D", out var guid))
                    {
                        ids.Add(guid);
                    }
                }

                next = records[^1].Offset + 1;
            }
        }

        return ids;
    }

    private static string Shorten(string text, int max) => text.Length <= max ? text : text[..max] + "…";

    internal readonly record struct Entry(long SortTicks, byte Rank, int File, int Line, string Key, Guid Id, int Chunk, int Offset, int Length);

    /// <summary>Payload bytes in large shared chunks: millions of rows without millions of small arrays.</summary>
    private sealed class PayloadArena
    {
        private const int ChunkBytes = 8 << 20;
        private readonly List<byte[]> _chunks = [];
        private int _used = ChunkBytes;

        public (int Chunk, int Offset) Write(ReadOnlySpan<byte> body, string asciiSuffix)
        {
            var length = body.Length + asciiSuffix.Length;
            if (_used + length > ChunkBytes)
            {
                _chunks.Add(new byte[Math.Max(ChunkBytes, length)]);
                _used = 0;
            }

            var chunk = _chunks[^1];
            var offset = _used;
            body.CopyTo(chunk.AsSpan(offset));
            var written = Encoding.UTF8.GetBytes(asciiSuffix, chunk.AsSpan(offset + body.Length));
            _used += body.Length + written;
            return (_chunks.Count - 1, offset);
        }

        public ReadOnlyMemory<byte> Get(in Entry entry) => _chunks[entry.Chunk].AsMemory(entry.Offset, entry.Length);
    }
}
