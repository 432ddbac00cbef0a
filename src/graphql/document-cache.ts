import { DocumentNode } from 'graphql';

/**
 * Valid documents by their text, least recently used dropped first. Equal operations then share one
 * `DocumentNode`: parsed and validated once, held once in memory however many subscribers run them,
 * and comparable by identity. Bounded by the total length of the texts it keeps.
 */
export class DocumentCache {
  private readonly documents = new Map<string, DocumentNode>();
  private chars = 0;

  constructor(private readonly maxChars: number) {}

  get(text: string): DocumentNode | undefined {
    const document = this.documents.get(text);
    if (document) {
      this.documents.delete(text);
      this.documents.set(text, document);
    }
    return document;
  }

  /** Keeps `document` (already validated) unless its text alone exceeds the bound. */
  set(text: string, document: DocumentNode): void {
    if (text.length > this.maxChars || this.documents.has(text)) return;
    this.documents.set(text, document);
    this.chars += text.length;
    for (const [oldest] of this.documents) {
      if (this.chars <= this.maxChars) break;
      this.documents.delete(oldest);
      this.chars -= oldest.length;
    }
  }
}
