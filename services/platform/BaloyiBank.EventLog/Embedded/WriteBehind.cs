using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace BaloyiBank.EventLog.Embedded;

/// <summary>
/// Starts the kernel writing a just-appended file range to disk without waiting for it (Linux
/// <c>sync_file_range(SYNC_FILE_RANGE_WRITE)</c>, RocksDB's "bytes_per_sync"): disk writes overlap
/// appends instead of piling up as dirty pages for one long flush, and less unflushed data is at
/// risk at any moment. It is not a durability guarantee; elsewhere it does nothing.
/// </summary>
internal static class WriteBehind
{
    private const uint SyncFileRangeWrite = 2;
    private static bool _unavailable = !OperatingSystem.IsLinux();

    public static void Start(SafeFileHandle handle, long offset, long length)
    {
        if (_unavailable || length <= 0)
        {
            return;
        }

        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            _ = SyncFileRange((int)handle.DangerousGetHandle(), offset, length, SyncFileRangeWrite);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            _unavailable = true;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    // DllImport rather than LibraryImport: all arguments are blittable, and LibraryImport would need unsafe code in the project.
    [DllImport("libc", EntryPoint = "sync_file_range")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int SyncFileRange(int fd, long offset, long nbytes, uint flags);
}
