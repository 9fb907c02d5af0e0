// Types of @collabedit/client/codemirror (codemirror.js).
import type { AnnotationType, Extension } from '@codemirror/state';
import type { EditorView } from '@codemirror/view';
import type { CollabDocument, CollabError } from './index.js';

export interface CodeMirrorOptions {
  /** Send your selection as presence while the editor has focus. Default true. */
  presence?: boolean;
  /** An edit of yours was refused (default: the document's 'error' event). */
  onError?: (err: CollabError) => void;
}

/** Marks transactions that apply other people's edits. */
export const remote: AnnotationType<boolean>;

/** The extension binding an editor to doc. */
export function collab(doc: CollabDocument, opts?: CodeMirrorOptions): Extension;

/** Adds collab(doc, opts) to an existing editor; destroy() removes it. */
export function bindCodeMirror(view: EditorView, doc: CollabDocument, opts?: CodeMirrorOptions): { destroy(): void };
