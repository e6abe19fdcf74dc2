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
    // Product pictures: one large picture shown at a time, chosen by its thumbnail.
    Alpine.data("gallery", function () {
      return {
        shown: 0,
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

    // The catalogue's filter panel starts open on wide screens (closed on phones, open when the
    // server says filters are in use).
    Alpine.data("filterPanel", function () {
      return {
        init: function () {
          if (window.matchMedia && window.matchMedia("(min-width: 64rem)").matches) this.$el.open = true;
        },
      };
    });

    // A form that asks before it is sent: the question is its data-confirm.
    Alpine.data("confirmSubmit", function () {
      return {
        ask: function (event) {
          if (!window.confirm(this.$el.dataset.confirm)) event.preventDefault();
        },
      };
    });
  }

  document.addEventListener("alpine:init", function () {
    register(window.Alpine);
  });
})();
