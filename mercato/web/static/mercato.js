// The Alpine.js components of the storefront and the console (ADR 0023).
//
// Pages run Alpine's CSP build (@alpinejs/csp), which never evaluates code written in HTML
// attributes: every behaviour lives here, registered with Alpine.data, and the templates only
// name a component (x-data="skuPicker") and its properties or methods (x-on:click="pick",
// x-text="priceText"). A method called from a directive gets the element's whole scope as
// `this`: the component's data, the x-for loop variables (`this.spec`, `this.option`) and the
// magics (`this.$el` is the element carrying the directive, `this.$refs`). Data reaches a
// component only through data-* attributes (JSON made with |tojson). Loaded before Alpine (both
// deferred, so in document order), so the alpine:init listener is in place when Alpine starts.
(function () {
  "use strict";

  function index(el) {
    return Number(el.dataset.index);
  }

  function register(Alpine) {
    // Product pictures: one large picture shown at a time, chosen by its thumbnail. Picking a
    // spec value that has its own picture (the colour's photo) shows that picture: the SKU
    // picker announces each pick as a "spec-picked" event ({code, value}). data-spec-images holds
    // [[code, value, picture index], ...]; data-chosen-spec the spec of the SKU shown first.
    Alpine.data("gallery", function () {
      return {
        shown: 0,
        pictures: {},
        init: function () {
          var pictures = {};
          JSON.parse(this.$el.dataset.specImages || "[]").forEach(function (tie) {
            pictures[tie[0] + "=" + tie[1]] = tie[2];
          });
          this.pictures = pictures;
          var chosen = JSON.parse(this.$el.dataset.chosenSpec || "{}");
          var self = this;
          Object.keys(chosen).sort().some(function (code) {
            return self.showValue(code, chosen[code]);
          });
        },
        showValue: function (code, value) {
          var picture = this.pictures[code + "=" + value];
          if (picture === undefined) return false;
          this.shown = picture;
          return true;
        },
        showSpec: function (event) {
          this.showValue(event.detail.code, event.detail.value);
        },
        show: function () {
          this.shown = index(this.$el);
        },
        notShown: function () {
          return this.shown !== index(this.$el);
        },
        pressed: function () {
          return this.shown === index(this.$el) ? "true" : "false";
        },
      };
    });

    // The SKU picker of the product page: one button per specification value; the price, the
    // stock line and the buy buttons follow the SKU the chosen values name. The form's data-picker
    // holds {specs: [{code, name, values: [{value, label}]}], skus: [{id, spec, price, market,
    // stock, ...}]}; data-chosen the SKU shown first. The plain <select> is the no-script fallback.
    Alpine.data("skuPicker", function () {
      return {
        enhanced: true,
        specs: [],
        skus: [],
        skuId: null,
        chosen: {},
        picked: false, // the shopper chose a value on the page (the buy bar then sends at once)
        init: function () {
          var picker = JSON.parse(this.$el.dataset.picker);
          this.specs = picker.specs;
          this.skus = picker.skus;
          this.skuId = Number(this.$el.dataset.chosen) || null;
          var sku = this.sku();
          this.chosen = sku ? Object.assign({}, sku.spec) : {};
        },
        sku: function () {
          var id = this.skuId;
          return this.skus.find(function (s) { return s.id === id; }) || null;
        },
        matches: function (sku, want) {
          return Object.keys(want).every(function (k) { return sku.spec[k] === want[k]; });
        },
        pick: function (code, value) {
          this.chosen[code] = value;
          this.$dispatch("spec-picked", { code: code, value: value }); // the gallery shows its picture
          var chosen = this.chosen;
          var self = this;
          var match = this.skus.find(function (s) { return self.matches(s, chosen); });
          this.skuId = match ? match.id : null;
        },
        available: function (code, value) {
          var want = Object.assign({}, this.chosen);
          want[code] = value;
          var self = this;
          return this.skus.some(function (s) { return s.stock > 0 && self.matches(s, want); });
        },
        // Bound in the template.
        hasSpecs: function () {
          return this.specs.length > 0;
        },
        priceText: function () {
          var sku = this.sku();
          return sku ? sku.price : this.$el.dataset.fallback;
        },
        marketText: function () {
          var sku = this.sku();
          return sku && sku.market ? sku.market : "";
        },
        noMarket: function () {
          var sku = this.sku();
          return !(sku && sku.market);
        },
        inStock: function () {
          var sku = this.sku();
          return Boolean(sku && sku.stock > 0);
        },
        outOfStock: function () {
          return !this.inStock();
        },
        stockText: function () {
          var sku = this.sku();
          return sku ? this.$el.dataset.inStock.replace("{n}", sku.stock) : "";
        },
        // Inside x-for="spec in specs" and x-for="option in spec.values".
        pickOption: function () {
          this.pick(this.spec.code, this.option.value);
          this.picked = true;
        },
        optionPressed: function () {
          return this.chosen[this.spec.code] === this.option.value ? "true" : "false";
        },
        optionClass: function () {
          return { "spec-unavailable": !this.available(this.spec.code, this.option.value) };
        },
      };
    });

    // The home page's banner strip: previous and next buttons scroll it by one banner.
    Alpine.data("bannerCarousel", function () {
      function scroll(track, direction) {
        track.scrollBy({ left: direction * track.clientWidth, behavior: "smooth" });
      }
      return {
        enhanced: true,
        previous: function () {
          scroll(this.$refs.track, -1);
        },
        next: function () {
          scroll(this.$refs.track, 1);
        },
      };
    });
  }

  // --- console shell --------------------------------------------------------------------
  function registerConsole(Alpine) {
    // The console's menu drawer on phones (a <details>, so it opens without script): Escape and
    // a click on the backdrop close it, focus back on its Menu button.
    Alpine.data("consoleDrawer", function () {
      return {
        close: function () {
          if (!this.$root.open) return;
          this.$root.open = false;
          this.$refs.opener.focus();
        },
      };
    });

    // A destructive action's form: a button with data-dialog="<id>" opens that <dialog> (inside
    // the form) instead of sending; the dialog's data-confirmed button sends the form with
    // confirmed=1. Without script the server shows its confirm page instead.
    Alpine.data("confirmDialog", function () {
      return {
        ask: function (event) {
          var submitter = event.submitter;
          if (submitter && submitter.hasAttribute("data-confirmed")) {
            this.$refs.confirmed.value = "1";
            return;
          }
          if (!submitter || !submitter.dataset.dialog) return;
          event.preventDefault();
          document.getElementById(submitter.dataset.dialog).showModal();
        },
        cancel: function () {
          this.$el.closest("dialog").close();
        },
      };
    });

    // A list's bulk form: the header checkbox ticks or clears every row's box.
    Alpine.data("bulkSelect", function () {
      return {
        noScript: false,
        all: function () {
          var ticked = this.$el.checked;
          this.$root.querySelectorAll("input[name='ids']").forEach(function (box) {
            box.checked = ticked;
          });
        },
      };
    });
  }

  // --- storefront phone shell ----------------------------------------------------------------
  var PHONE = "(max-width: 47.99rem)";

  function onPhone() {
    return Boolean(window.matchMedia && window.matchMedia(PHONE).matches);
  }

  function visible(el) {
    return el.offsetParent !== null || el.getClientRects().length > 0;
  }

  // Keep Tab and Shift+Tab inside an open sheet (its focusable, visible elements).
  function trapTab(event, container) {
    var items = Array.prototype.filter.call(
      container.querySelectorAll("a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea, summary"),
      visible
    );
    if (!items.length) return;
    var first = items[0];
    var last = items[items.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }

  function lockScroll(locked) {
    document.body.classList.toggle("sheet-open", locked);
  }

  // The dialog attributes of a sheet (bound in the template), present only while it is a sheet:
  // `isSheet` says when, called with the component as `this`; `title` is the heading's id.
  function sheetAria(isSheet, title) {
    return {
      sheetRole: function () {
        return isSheet.call(this) ? "dialog" : null;
      },
      sheetModal: function () {
        return isSheet.call(this) ? "true" : null;
      },
      sheetTitle: function () {
        return isSheet.call(this) ? title : null;
      },
    };
  }

  function registerShell(Alpine) {
    // The product page's buy bar and bottom sheet (phones). The bar's 加入购物车 and 立即购买 are
    // submit buttons of the buy form: without script they send the form as chosen on the page.
    // With script they open the spec picker as a sheet (a modal dialog: focus moves in, Tab stays
    // in, Escape or the backdrop closes it, focus returns to the button), unless the shopper
    // already chose a value of an in-stock SKU on the page, which is sent at once. The sheet is
    // the form's own picker, so it posts exactly what the inline form posts. Wraps skuPicker.
    Alpine.data("buySheet", function () {
      return Object.assign({
        sheet: "", // "", "add" or "buy": what the sheet was opened for
        opener: null,
        barAdd: function (event) {
          this.fromBar(event, "add");
        },
        barBuy: function (event) {
          this.fromBar(event, "buy");
        },
        fromBar: function (event, intent) {
          if (this.picked && this.inStock()) return;
          event.preventDefault();
          this.opener = event.currentTarget;
          this.sheet = intent;
          lockScroll(true);
          var sheet = document.getElementById("buy-sheet");
          this.$nextTick(function () {
            var first = sheet.querySelector(".spec-option[aria-pressed='true']") || sheet.querySelector("button, select, input:not([type='hidden'])");
            if (first) first.focus();
          });
        },
        closeSheet: function () {
          if (!this.sheet) return;
          this.sheet = "";
          lockScroll(false);
          if (this.opener) this.opener.focus();
        },
        trap: function (event) {
          if (this.sheet) trapTab(event, document.getElementById("buy-sheet"));
        },
        sheetClosed: function () {
          return this.sheet === "";
        },
        sheetClass: function () {
          return { "is-open": this.sheet !== "", "sheet-add": this.sheet === "add", "sheet-buy": this.sheet === "buy" };
        },
      }, sheetAria(function () { return this.sheet !== ""; }, "buy-sheet-title"));
    });

    // The results' filters: a bottom sheet on phones (a modal dialog opened by its summary; a
    // change inside waits for Apply instead of reloading the results at each tick), the inline
    // panel on wider screens, open there. Without script the <details> works as it is.
    Alpine.data("filterSheet", function () {
      return Object.assign({
        sheet: false,
        init: function () {
          this.sheet = onPhone();
          this.$el.open = !this.sheet;
          if (this.sheet) lockScroll(false); // a sheet the swapped-out results had open
        },
        toggled: function () {
          if (!this.sheet) return;
          lockScroll(this.$root.open);
          if (this.$root.open) {
            var body = this.$root.querySelector(".filter-sheet");
            this.$nextTick(function () {
              var first = body.querySelector("input, select, button");
              if (first) first.focus();
            });
          }
        },
        close: function () {
          if (!this.sheet || !this.$root.open) return;
          this.$root.open = false;
          lockScroll(false);
          this.$root.querySelector("summary").focus();
        },
        closeOutside: function (event) {
          if (event.target === this.$root && this.$root.open && this.sheet) this.close();
        },
        hold: function (event) {
          if (this.sheet && this.$root.open) event.stopPropagation();
        },
        trap: function (event) {
          if (this.sheet && this.$root.open) trapTab(event, this.$root);
        },
        notSheet: function () {
          return !this.sheet;
        },
        sheetClass: function () {
          return { "is-sheet": this.sheet };
        },
      }, sheetAria(function () { return this.sheet; }, "filter-sheet-title"));
    });

    // The header's category menu (a <details>): Escape or a click elsewhere closes it.
    Alpine.data("dropdown", function () {
      return {
        close: function () {
          if (!this.$root.open) return;
          var inside = this.$root.contains(document.activeElement);
          this.$root.open = false;
          if (inside) this.$root.querySelector("summary").focus();
        },
      };
    });
  }

  // --- WeChat Pay inside WeChat ----------------------------------------------------------
  function registerWeChatPay(Alpine) {
    // Pays a WeChat Pay JSAPI payment through WeChat's own bridge (WeixinJSBridge exists only
    // inside WeChat, sometimes a moment after the page loads: WeixinJSBridgeReady). data-params
    // holds the parameters the server signed (paySign: RSA over appId, timeStamp, nonceStr and
    // package); on "ok" the page goes to data-result-url, which waits for WeChat Pay's
    // notification: the bridge's answer is never taken as the payment itself.
    Alpine.data("wechatPay", function () {
      return {
        busy: false,
        message: "",
        pay: function () {
          var root = this.$root;
          var self = this;
          var params = JSON.parse(root.dataset.params);
          function invoke() {
            window.WeixinJSBridge.invoke("getBrandWCPayRequest", params, function (answer) {
              var said = answer && answer.err_msg;
              self.busy = false;
              if (said === "get_brand_wcpay_request:ok") {
                window.location.assign(root.dataset.resultUrl);
              } else if (said === "get_brand_wcpay_request:cancel") {
                self.message = root.dataset.cancelled;
              } else {
                self.message = root.dataset.failed;
              }
            });
          }
          this.busy = true;
          this.message = "";
          if (window.WeixinJSBridge) invoke();
          else document.addEventListener("WeixinJSBridgeReady", invoke, { once: true });
        },
      };
    });
  }

  // --- promotions: countdowns, the product page's offer, the coupon sheet ----------------------
  // Seconds left of `total` counted from `since` (Date.now() when the page got them): the end is
  // the server's, the browser only measures the time that has passed since.
  function secondsLeft(total, since) {
    return Math.max(0, total - Math.floor((Date.now() - since) / 1000));
  }

  function two(n) {
    return (n < 10 ? "0" : "") + n;
  }

  // 02:13:05, or "3d 02:13:05" (`days` holds the translated "{n}d", 3 天 in Chinese).
  function clockText(seconds, days) {
    var d = Math.floor(seconds / 86400);
    var rest = seconds % 86400;
    var text = two(Math.floor(rest / 3600)) + ":" + two(Math.floor((rest % 3600) / 60)) + ":" + two(rest % 60);
    return d ? days.replace("{n}", d) + " " + text : text;
  }

  // Ticks `this.now` every second (for components whose text depends on the time passed).
  function ticking() {
    return {
      since: 0,
      now: 0,
      timer: null,
      init: function () {
        var self = this;
        this.since = this.now = Date.now();
        this.timer = window.setInterval(function () { self.now = Date.now(); }, 1000);
      },
      destroy: function () {
        window.clearInterval(this.timer);
      },
      left: function (seconds) {
        return this.now >= 0 ? secondsLeft(seconds, this.since) : 0; // reads `now`: re-run each tick
      },
    };
  }

  function registerPromotions(Alpine) {
    // A countdown (campaign pages): data-seconds is what the server had left, data-days the
    // translated "{n}d".
    Alpine.data("countdown", function () {
      return Object.assign(ticking(), {
        text: function () {
          var left = this.left(Number(this.$el.dataset.seconds) || 0);
          // data-reload: the page changes when the time is up (a flash sale starts or ends)
          if (left === 0 && this.$el.dataset.reload && !this.reloading && this.since) {
            this.reloading = true;
            window.setTimeout(function () { window.location.reload(); }, 1000);
          }
          return clockText(left, this.$el.dataset.days);
        },
      });
    });

    // The flash-sale page's live tab: every 5 seconds, the units left of each item (data-url),
    // so the bar, the "% taken" and the sold-out state follow the sale without a reload.
    Alpine.data("flashLive", function () {
      return {
        timer: null,
        init: function () {
          var self = this;
          this.timer = window.setInterval(function () { self.refresh(); }, 5000);
        },
        destroy: function () {
          window.clearInterval(this.timer);
        },
        refresh: function () {
          var root = this.$el;
          fetch(root.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
            .then(function (response) { return response.ok ? response.json() : null; })
            .then(function (left) {
              if (!left) return;
              root.querySelectorAll("[data-item]").forEach(function (item) {
                var units = left[item.dataset.item];
                if (units === undefined) return;
                var quota = Number(item.dataset.quota) || 0;
                var taken = Math.max(0, quota - units);
                var bar = item.querySelector("progress");
                if (bar) bar.value = taken;
                var text = item.querySelector(".flash-taken");
                if (text && quota) text.textContent = text.dataset.template.replace("{n}", Math.min(100, Math.floor((taken * 100) / quota)));
                var buy = item.querySelector(".flash-buy");
                var soldOut = item.querySelector(".flash-sold-out");
                if (buy) buy.hidden = units <= 0;
                if (soldOut) soldOut.hidden = units > 0;
              });
            })
            .catch(function () { /* offline for a moment: the next tick tries again */ });
        },
      };
    });

    // "Share" (storefront/partials/_share.html, the invite page): "copy link" copies the share
    // link, which carries the shopper's invite code: data-link when the page has it, else asked of
    // data-api (GET /api/v1/share) when the <details> opens, so the click itself only writes to
    // the clipboard (browsers allow that only right after a click). Where navigator.clipboard is
    // missing (no HTTPS, old WebViews) or refuses, the link is selected in its box to copy by hand.
    // "Save poster" is a plain link to the PNG (inside WeChat: open it and long-press to save).
    Alpine.data("shareControl", function () {
      return {
        link: "",
        status: "",
        init: function () {
          this.link = this.$root.dataset.link || "";
        },
        notReady: function () {
          return !this.link;
        },
        load: function () {
          var root = this.$root;
          var self = this;
          if (this.link || !root.dataset.api || !root.open) return;
          fetch(root.dataset.api, { credentials: "same-origin", headers: { Accept: "application/json" } })
            .then(function (response) { return response.ok ? response.json() : null; })
            .then(function (share) {
              if (share && share.url) self.link = share.url;
              else self.status = root.dataset.failed;
            })
            .catch(function () { self.status = root.dataset.failed; });
        },
        copy: function () {
          var root = this.$root;
          var field = this.$refs.link;
          var self = this;
          function byHand() {
            if (field) { field.focus(); field.select(); }
            self.status = root.dataset.failed;
          }
          if (!this.link) return;
          if (!navigator.clipboard || !window.isSecureContext) { byHand(); return; }
          navigator.clipboard.writeText(this.link).then(function () { self.status = root.dataset.copied; }, byHand);
        },
      };
    });

    // The flash sale's human check: find `proof` such that SHA-256(challenge + ":" + proof) starts
    // with data-bits zero bits (about a second on a phone), then let the form be sent. The hashing
    // yields to the page between batches, so the page stays responsive.
    Alpine.data("flashProof", function () {
      return {
        init: function () {
          var form = this.$el;
          var challenge = form.dataset.challenge;
          var bits = Number(form.dataset.bits) || 16;
          var encoder = new TextEncoder();
          var n = 0;
          function zeroBits(bytes) {
            var count = 0;
            for (var i = 0; i < bytes.length; i++) {
              if (bytes[i] === 0) { count += 8; continue; }
              for (var b = 7; b >= 0 && !(bytes[i] & (1 << b)); b--) count++;
              return count;
            }
            return count;
          }
          function batch() {
            var tries = [];
            for (var i = 0; i < 256; i++, n++) tries.push(String(n));
            return Promise.all(tries.map(function (proof) {
              return crypto.subtle.digest("SHA-256", encoder.encode(challenge + ":" + proof)).then(function (digest) {
                return zeroBits(new Uint8Array(digest)) >= bits ? proof : null;
              });
            })).then(function (found) {
              var proof = found.filter(function (p) { return p !== null; })[0];
              if (proof === undefined) return batch();
              form.querySelector("[name=proof]").value = proof;
              var button = form.querySelector("button[type=submit]");
              button.disabled = false;
              button.textContent = button.dataset.ready;
              return proof;
            });
          }
          batch();
        },
      };
    });

    // The product page's offer for the SKU the picker names (inside skuPicker, whose `sku()` it
    // reads): the timed price's countdown, the 券后价, the preheat price and its countdown. Each
    // SKU's `offer` in data-picker: {ends, coupon, preheat, starts} (seconds and worded texts).
    Alpine.data("skuOffer", function () {
      return Object.assign(ticking(), {
        offer: function () {
          var sku = this.sku();
          return (sku && sku.offer) || {};
        },
        noCountdown: function () {
          return this.offer().ends == null;
        },
        endsText: function () {
          var offer = this.offer();
          return offer.ends == null ? "" : clockText(this.left(offer.ends), this.$root.dataset.days);
        },
        noCoupon: function () {
          return !this.offer().coupon;
        },
        couponText: function () {
          return this.offer().coupon || "";
        },
        noPreheat: function () {
          return !this.offer().preheat;
        },
        preheatText: function () {
          return this.offer().preheat || "";
        },
        startsText: function () {
          var offer = this.offer();
          return offer.starts == null ? "" : clockText(this.left(offer.starts), this.$root.dataset.days);
        },
      });
    });

    // The product page's 领券 row (a <details>): on phones its panel is a bottom sheet (a modal
    // dialog: focus moves in, Tab stays in, Escape or the backdrop closes it), on wider screens a
    // popover that Escape or a click elsewhere closes. Without script it opens in place.
    Alpine.data("couponSheet", function () {
      return Object.assign({
        sheet: false,
        opened: false,
        init: function () {
          this.sheet = onPhone();
        },
        toggled: function () {
          this.sheet = onPhone();
          this.opened = this.$root.open;
          if (this.sheet) lockScroll(this.opened);
          if (this.$root.open) {
            var panel = this.$root.querySelector(".coupon-panel");
            this.$nextTick(function () {
              var first = panel.querySelector("button, a[href]");
              if (first) first.focus();
            });
          }
        },
        close: function () {
          if (!this.$root.open) return;
          this.$root.open = false;
          if (this.sheet) lockScroll(false);
          this.$root.querySelector("summary").focus();
        },
        closeOutside: function (event) {
          if (event.target === this.$root && this.$root.open) this.close();
        },
        trap: function (event) {
          if (this.sheet && this.$root.open) trapTab(event, this.$root.querySelector(".coupon-panel"));
        },
        sheetClass: function () {
          return { "is-sheet": this.sheet };
        },
      }, sheetAria(function () { return this.sheet && this.opened; }, "coupon-sheet-title"));
    });
  }

  document.addEventListener("alpine:init", function () {
    register(window.Alpine);
    registerConsole(window.Alpine);
    registerShell(window.Alpine);
    registerWeChatPay(window.Alpine);
    registerPromotions(window.Alpine);
  });
})();
