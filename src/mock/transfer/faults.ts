/**
 * Fault injection for the transfer emulation: corrupt one byte of the next upload as the mock writes it (the
 * emulated script then finds a hash mismatch), or of the next download as it is sent (the client finds one).
 */
export class TransferFaults {
  private uploads = 0;
  private downloads = 0;

  /** Flip one byte in each of the next `count` uploaded files as they are written. Default count: 1. */
  corruptNextUpload(count = 1): void {
    this.uploads += count;
  }

  /** Flip one byte in each of the next `count` downloaded files as they are sent. Default count: 1. */
  corruptNextDownload(count = 1): void {
    this.downloads += count;
  }

  /** @internal */
  takeUpload(): boolean {
    if (this.uploads === 0) return false;
    this.uploads--;
    return true;
  }

  /** @internal */
  takeDownload(): boolean {
    if (this.downloads === 0) return false;
    this.downloads--;
    return true;
  }
}
