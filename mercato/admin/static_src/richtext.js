// The console's rich-text editor for product descriptions (ADR 0030): Tiptap (ProseMirror) with
// only the formats the server keeps (paragraphs, bold, italic, underline, strike, headings 2-3,
// lists, quotes, links). scripts/bootstrap builds it with esbuild into
// mercato/web/static/build/richtext.min.js (git-ignored), loaded by the product editor only.
//
// Progressive: the page holds a plain <textarea data-rich-text="ID"> (the no-script fallback,
// posted as it is) and a hidden toolbar#ID whose buttons name a command in data-command. This
// script shows the toolbar, puts the editor after the textarea, hides the textarea and copies
// the editor's HTML into it on every change, so the form posts as before. The server sanitises
// whatever arrives (nh3), so nothing here is a security boundary.
//
// Strict CSP (ADR 0023): injectCSS is off (Tiptap would add a <style> element); the editor's
// rules are in mercato.css. ProseMirror sets styles only through the CSSOM, which the policy
// allows.
import { Editor } from "@tiptap/core";
import StarterKit from "@tiptap/starter-kit";

const COMMANDS = {
  bold: (chain) => chain.toggleBold(),
  italic: (chain) => chain.toggleItalic(),
  underline: (chain) => chain.toggleUnderline(),
  strike: (chain) => chain.toggleStrike(),
  h2: (chain) => chain.toggleHeading({ level: 2 }),
  h3: (chain) => chain.toggleHeading({ level: 3 }),
  bulletList: (chain) => chain.toggleBulletList(),
  orderedList: (chain) => chain.toggleOrderedList(),
  blockquote: (chain) => chain.toggleBlockquote(),
};

const ACTIVE = {
  bold: (editor) => editor.isActive("bold"),
  italic: (editor) => editor.isActive("italic"),
  underline: (editor) => editor.isActive("underline"),
  strike: (editor) => editor.isActive("strike"),
  h2: (editor) => editor.isActive("heading", { level: 2 }),
  h3: (editor) => editor.isActive("heading", { level: 3 }),
  bulletList: (editor) => editor.isActive("bulletList"),
  orderedList: (editor) => editor.isActive("orderedList"),
  blockquote: (editor) => editor.isActive("blockquote"),
  link: (editor) => editor.isActive("link"),
};

function setLink(editor, question) {
  const current = editor.getAttributes("link").href || "";
  const href = window.prompt(question, current);
  if (href === null) return;
  const chain = editor.chain().focus().extendMarkRange("link");
  if (href.trim() === "") chain.unsetLink().run();
  else chain.setLink({ href: href.trim() }).run();
}

function enhance(textarea) {
  const toolbar = document.getElementById(textarea.dataset.richText);
  if (!toolbar) return;
  const surface = document.createElement("div");
  surface.className = "rich-text-surface";
  textarea.after(toolbar, surface); // under the label and its hint, over the text
  const label = document.querySelector(`label[for="${textarea.id}"]`);
  const editor = new Editor({
    element: surface,
    injectCSS: false,
    content: textarea.value,
    extensions: [
      StarterKit.configure({
        heading: { levels: [2, 3] },
        code: false,
        codeBlock: false,
        horizontalRule: false,
        link: {
          openOnClick: false,
          autolink: true,
          protocols: [],
          HTMLAttributes: { rel: "nofollow noopener", target: null },
        },
      }),
    ],
    editorProps: {
      attributes: {
        class: "rich-text",
        role: "textbox",
        "aria-multiline": "true",
        "aria-label": label ? label.textContent.trim() : "",
        "data-testid": "rich-text-editor",
      },
    },
  });
  const buttons = toolbar.querySelectorAll("button[data-command]");
  const refresh = () => {
    buttons.forEach((button) => {
      const active = ACTIVE[button.dataset.command];
      button.setAttribute("aria-pressed", active && active(editor) ? "true" : "false");
    });
  };
  editor.on("update", () => {
    textarea.value = editor.isEmpty ? "" : editor.getHTML();
  });
  editor.on("transaction", refresh);
  buttons.forEach((button) => {
    // A pointer press keeps the focus (and the selection) in the text; keyboard users get it back
    // through the command's focus().
    button.addEventListener("mousedown", (event) => event.preventDefault());
    button.addEventListener("click", () => {
      const command = button.dataset.command;
      if (command === "link") setLink(editor, button.dataset.question);
      else if (COMMANDS[command]) COMMANDS[command](editor.chain().focus()).run();
    });
  });
  textarea.hidden = true;
  if (label) label.addEventListener("click", () => editor.commands.focus());
  toolbar.hidden = false;
  refresh();
}

document.querySelectorAll("textarea[data-rich-text]").forEach(enhance);
